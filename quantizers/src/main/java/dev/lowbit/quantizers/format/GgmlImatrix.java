package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.GROUP_MAX_EPS;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.minK4;
import static dev.lowbit.quantizers.format.GgmlQuants.nearestInt;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.scaleK4;

/**
 * The importance-matrix paths of ggml-quants.c that llama-quantize --imatrix runs (bit-exact, float arithmetic in C's
 * evaluation order): make_qkx3_quants, make_qp_quants and the super-block of quantize_row_q4_K_impl /
 * quantize_row_q5_K_impl.
 */
final class GgmlImatrix {
    private GgmlImatrix() {}

    /** make_qkx3_quants(n, nmax, x[xo ..], weights, L[lo ..], &theMin[0], Laux, rmin, rdelta, nstep, use_mad = false). */
    static float makeQkx3Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin, int[] laux,
            float rmin, float rdelta, int nstep) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            if (x[xo + i] < min) min = x[xo + i];
            if (x[xo + i] > max) max = x[xo + i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[xo + i];
        }
        if (min > 0) min = 0;
        if (max <= min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = diff * diff;
            bestMad += weights[i] * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * (x[xo + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = diff * diff;
                    mad += weights[i] * diff;
                }
                if (mad < bestMad) {
                    System.arraycopy(laux, 0, L, lo, n);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /** make_qp_quants(n, nmax, x, L, quant_weights): a non-negative scale for non-negative x (L as uint8_t). */
    static float makeQpQuants(int n, int nmax, float[] x, int[] L, float[] qw) {
        float max = 0;
        for (int i = 0; i < n; ++i) max = Math.max(max, x[i]);
        if (max < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; ++i) L[i] = nearestInt(iscale * x[i]) & 0xff;
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; ++i) {
            float diff = x[i] - scale * L[i];
            float w = qw[i];
            bestMse += w * diff * diff;
        }
        for (int is = -4; is <= 4; ++is) {
            if (is == 0) continue;
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscaleIs * x[i]);
                l = Math.min(nmax, l);
                float diff = x[i] - scaleIs * l;
                float w = qw[i];
                mse += w * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = Math.min(nmax, l);
            L[i] = l & 0xff;
            float w = qw[i];
            sumlx += w * x[i] * L[i];
            suml2 += w * L[i] * L[i];
        }
        for (int itry = 0; itry < 5; ++itry) {
            int nChanged = 0;
            for (int i = 0; i < n; ++i) {
                float w = qw[i];
                float slx = sumlx - w * x[i] * L[i];
                float sl2 = suml2 - w * L[i] * L[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = nearestInt(x[i] * sl2 / slx);
                    newL = Math.min(nmax, newL);
                    if (newL != L[i]) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = newL & 0xff;
                            sumlx = slx;
                            suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (nChanged == 0) break;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /** Scratch of {@link #quantizeK4}: two super-blocks' weights, sums of weights, scales and mins. */
    static final class K4 {
        final float[] weights = new float[32], sw = new float[16], mins = new float[16], scales = new float[16], theMin = new float[1];
        final float[] sw8 = new float[8], mins8 = new float[8], scales8 = new float[8];
        final int[] laux = new int[32], ls = new int[8], lm = new int[8];
        final float[] allWeights = new float[512];
        final Qkx2Lanes.Scratch lanes = Qkx2Lanes.USABLE ? Qkx2Lanes.scratch(32) : null;
    }

    /**
     * count (1 or 2) super-blocks of 256 at x[xo ..] as quantize_row_q4_K_impl (nmax 15) / quantize_row_q5_K_impl
     * (nmax 31) with quant_weights qw[qo ..]: per group of 32, make_qkx3_quants (the groups' searches side by side, both
     * super-blocks' 16 at once where vectors hold 16 floats); then super-block k's d, dmin and packed scales at
     * dst[y + blockBytes·k ..] and its quants in L[256k .. 256k + 256).
     */
    static void quantizeK4(float[] x, int xo, float[] qw, int qo, int count, int blockBytes, int nmax, byte[] dst, int y, int[] L, K4 s) {
        for (int k = 0; k < count; k++) {
            int xb = xo + 256 * k;
            float sumX2 = 0;
            for (int l = 0; l < 256; ++l) sumX2 += x[xb + l] * x[xb + l];
            float sigma2 = 2 * sumX2 / 256;
            for (int j = 8 * k; j < 8 * k + 8; ++j) {
                int g = xo + 32 * j;
                float[] w = s.lanes != null ? s.allWeights : s.weights;
                int wo = s.lanes != null ? 32 * j : 0;
                for (int l = 0; l < 32; ++l) w[wo + l] = qw[qo + 32 * j + l] * (float) Math.sqrt(sigma2 + x[g + l] * x[g + l]);
                float sumw = 0;
                for (int l = 0; l < 32; ++l) sumw += w[wo + l];
                s.sw[j] = sumw;
                if (s.lanes != null) continue;
                s.scales[j] = makeQkx3Quants(32, nmax, x, g, s.weights, L, 32 * j, s.theMin, s.laux, -0.9f, 0.05f, 36);
                s.mins[j] = s.theMin[0];
            }
        }
        // make_qkx3_quants is make_qkx2_quants with squared errors (its early return on max <= min is max == min,
        // as max >= min)
        for (int j = 0; s.lanes != null && j < 8 * count; j += Qkx2Lanes.GROUPS)
            Qkx2Lanes.run(Math.min(Qkx2Lanes.GROUPS, 8 * count - j), nmax, x, xo + 32 * j, s.allWeights, 32 * j, L, 32 * j, s.scales, s.mins, j,
                    -0.9f, 0.05f, 36, false, s.lanes);
        for (int k = 0; k < count; k++) {
            System.arraycopy(s.scales, 8 * k, s.scales8, 0, 8);
            System.arraycopy(s.mins, 8 * k, s.mins8, 0, 8);
            System.arraycopy(s.sw, 8 * k, s.sw8, 0, 8);
            finishK4(x, xo + 256 * k, nmax, dst, y + blockBytes * k, L, 256 * k, s);
        }
    }

    /** Super-block at x[xo ..] from its scales, mins and sums of weights in s.scales8, s.mins8, s.sw8: as above. */
    private static void finishK4(float[] x, int xo, int nmax, byte[] dst, int y, int[] L, int lo, K4 s) {
        float dBlock = makeQpQuants(8, 63, s.scales8, s.ls, s.sw8);
        float mBlock = makeQpQuants(8, 63, s.mins8, s.lm, s.sw8);
        int sc = y + 4;
        for (int k = 0; k < 12; k++) dst[sc + k] = 0;
        for (int j = 0; j < 8; ++j) {
            int ls = s.ls[j], lm = s.lm[j];
            if (nmax == 31) {
                ls = Math.min(63, ls);
                lm = Math.min(63, lm);
            }
            if (j < 4) {
                dst[sc + j] = (byte) ls;
                dst[sc + j + 4] = (byte) lm;
            } else {
                dst[sc + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                dst[sc + j - 4] |= (byte) ((ls >> 4) << 6);
                dst[sc + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        putF16(dst, y, dBlock);
        putF16(dst, y + 2, mBlock);
        float dAll = f16(dst, y), dminAll = f16(dst, y + 2);
        for (int j = 0; j < 8; ++j) {
            float d = dAll * scaleK4(j, dst, sc);
            if (d == 0) continue;
            float dm = dminAll * minK4(j, dst, sc);
            GgmlQuants.groupQuantsMin(x, xo + 32 * j, 32, d, dm, nmax, L, lo + 32 * j);
        }
    }

    /** make_qx_quants(n, nmax, x[xo ..], L[lo ..], rmse_type, qw[qo ..]) with quant weights (L as int8_t: l + nmax). */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] qw, int qo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) { amax = ax; max = x[xo + i]; }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[xo + i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
            float w = qw[qo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * x[xo + i]);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = qw[qo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * One row of n (a whole row: sigma2 is the row's mean x²) as quantize_row_q4_0_impl / q4_1 / q5_0 / q5_1 with
     * quant_weights qw[qo ..]: 5 bits when five, a min (make_qkx3_quants) when withMin, else make_qx_quants.
     */
    static void legacyRow(float[] x, int xo, int n, byte[] dst, int dstOff, float[] qw, int qo, boolean five, boolean withMin) {
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) sumX2 += x[xo + j] * x[xo + j];
        float sigma2 = sumX2 / n;
        float[] weight = new float[32], theMin = new float[1];
        int[] L = new int[32], laux = new int[32];
        int nmax = five ? 31 : 15;
        int bytes = 2 + (withMin ? 2 : 0) + (five ? 4 : 0) + 16;
        for (int ib = 0; ib < n / 32; ++ib) {
            int xb = xo + 32 * ib, wb = qo + 32 * ib, y = dstOff + bytes * ib;
            for (int j = 0; j < 32; ++j) weight[j] = qw[wb + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            float d;
            if (withMin) {
                d = makeQkx3Quants(32, nmax, x, xb, weight, L, 0, theMin, laux, -0.9f, 0.05f, 36);
                putF16(dst, y + 2, -theMin[0]);
            } else {
                d = makeQxQuants(32, five ? 16 : 8, x, xb, L, 0, weight, 0);
            }
            putF16(dst, y, d);
            int qs = y + (withMin ? 4 : 2) + (five ? 4 : 0);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                int xi0 = L[j] & 0xff, xi1 = L[j + 16] & 0xff;
                dst[qs + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
            }
            if (five) {
                int h = y + (withMin ? 4 : 2);
                dst[h] = (byte) qh;
                dst[h + 1] = (byte) (qh >>> 8);
                dst[h + 2] = (byte) (qh >>> 16);
                dst[h + 3] = (byte) (qh >>> 24);
            }
        }
    }
}
