package dev.lowbit.quantizers.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Helpers shared by the ggml block formats, ported float operation for float operation from llama.cpp's
 * {@code ggml/src/ggml-quants.c} (the search functions used without an importance matrix) so that the encoders are
 * bit-exact to llama-quantize. Integer arrays stand in for C's int8_t/uint8_t quant buffers: every value stored in
 * them is within the range of the C type, so no wrap-around is lost (where C does wrap, the caller masks).
 */
final class GgmlQuants {
    private GgmlQuants() {}

    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    /** kvalues_iq4nl (ggml-common.h): the non-linear 4-bit codebook of IQ4_NL and IQ4_XS. */
    static final int[] KVALUES_IQ4NL = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    // ---------------------------------------------------------------- fp16 and bytes

    /** GGML_FP32_TO_FP16 (round to nearest even), little-endian at dst[off]. */
    static void putF16(byte[] dst, int off, float v) {
        short h = Float.floatToFloat16(v);
        dst[off] = (byte) h;
        dst[off + 1] = (byte) (h >> 8);
    }

    /** GGML_FP16_TO_FP32 of the half stored at dst[off]. */
    static float f16(byte[] b, int off) {
        return Float.float16ToFloat((short) ((b[off] & 0xff) | (b[off + 1] << 8)));
    }

    /** The float an fp16 round trip gives: GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(v)). */
    static float roundTripF16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(LE16, off));
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xff;
    }

    // ---------------------------------------------------------------- block extremes

    /*
     * The C loops take extremes with a compare and a branch per value (MAX(amax, fabsf(v)), `if (v < min) min = v`).
     * As Java, the same loops run a serial chain of compares that mispredict on random weights: 2-5 ns per value,
     * most of a Q8_0 encode. These read the bits instead: for finite floats, |v|'s bits order like |v|, and
     * bits ^ ((bits >> 31) & 0x7fffffff) orders like v, so the extreme is an int max or min that C2 vectorizes.
     * Results equal the C loops' for finite input, including which zero (+0 or −0) they keep.
     */

    /** max |x[o, o+n)|: MAX(amax, fabsf(v)) over the block, from 0. */
    static float absMax(float[] x, int o, int n) {
        int m = 0;
        for (int j = 0; j < n; j++) m = Math.max(m, Float.floatToRawIntBits(x[o + j]) & 0x7fffffff);
        return Float.intBitsToFloat(m);
    }

    /**
     * The value of largest magnitude, the first one on ties (`if (amax < fabsf(v)) { amax = fabsf(v); max = v; }`
     * from amax = max = 0); amax is {@link #absMax}'s result.
     */
    static float signedAbsMax(float[] x, int o, int n, float amax) {
        if (amax == 0) return 0.0f;
        for (int j = 0; j < n; j++) if (Math.abs(x[o + j]) == amax) return x[o + j];
        return 0.0f; // NaN in the block: the C loop's result is as meaningless
    }

    private static int orderKey(float v) {
        int b = Float.floatToRawIntBits(v);
        return b ^ ((b >> 31) & 0x7fffffff);
    }

    /** `if (v < min) min = v` from Float.MAX_VALUE: the least value, the first of +0/−0 when it is zero. */
    static float min(float[] x, int o, int n) {
        int m = Integer.MAX_VALUE;
        for (int j = 0; j < n; j++) m = Math.min(m, orderKey(x[o + j]));
        float v = Float.intBitsToFloat(m ^ ((m >> 31) & 0x7fffffff));
        return v == 0 ? firstZero(x, o, n) : Math.min(v, Float.MAX_VALUE);
    }

    /** `if (v > max) max = v` from −Float.MAX_VALUE: the greatest value, the first of +0/−0 when it is zero. */
    static float max(float[] x, int o, int n) {
        int m = Integer.MIN_VALUE;
        for (int j = 0; j < n; j++) m = Math.max(m, orderKey(x[o + j]));
        float v = Float.intBitsToFloat(m ^ ((m >> 31) & 0x7fffffff));
        return v == 0 ? firstZero(x, o, n) : Math.max(v, -Float.MAX_VALUE);
    }

    private static float firstZero(float[] x, int o, int n) {
        for (int j = 0; j < n; j++) if (x[o + j] == 0) return x[o + j];
        return 0.0f;
    }

    // ---------------------------------------------------------------- rounding

    /**
     * nearest_int: adds 1.5·2^23 so the float addition rounds to an integer (half to even), then reads the integer
     * from the mantissa bits. Valid for |fval| ≤ 4194303, as in C.
     */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    /**
     * (int) roundf(x) for |x| < 2³¹, without roundf's branch for large values: the add is exact in double, and the
     * cast truncates toward zero. NaN gives 0, as (int8_t) of x86's conversion of NaN does.
     */
    static int roundfInt(float x) {
        return (int) (x + Math.copySign(0.5, x));
    }

    /**
     * C's roundf: half away from zero (Math.round would take −2.5 to −2). Below 2²³ in magnitude, x ± 0.5 is exact in
     * double and the int conversion truncates toward zero; from 2²³ on every float is an integer already (NaN and
     * infinities pass through too). The sign is copied back so that −0.3 gives −0.0, as roundf does.
     */
    static float roundf(float x) {
        if (!(Math.abs(x) < 0x1p23f)) return x;
        return Math.copySign((float) (int) (x + Math.copySign(0.5, x)), x);
    }

    // ---------------------------------------------------------------- search functions

    /**
     * make_qx_quants with qw = NULL: symmetric quants L[i] ∈ [0, 2·nmax) around nmax, and the best of 19 trial
     * scales by weighted least squares. rmse_type 0 returns the plain scale; negative rmse_type returns early.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo, int rmseType) {
        float amax = absMax(x, xo, n), max = signedAbsMax(x, xo, n, amax); // without the C loop's branches
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        if (rmseType == 0) {
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * x[xo + i]);
                L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
            }
            return 1 / iscale;
        }
        boolean returnEarly = false;
        if (rmseType < 0) {
            rmseType = -rmseType;
            returnEarly = true;
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = nearestInt(iscale * xi);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
            float w = qxWeight(rmseType, xi);
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        if (returnEarly) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = nearestInt(iscale * xi);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = qxWeight(rmseType, xi);
                sumlx += w * xi * l;
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

    private static float qxWeight(int rmseType, float x) {
        return rmseType == 1 ? x * x : rmseType == 2 ? 1 : rmseType == 3 ? Math.abs(x) : (float) Math.sqrt(Math.abs(x));
    }

    /**
     * make_q3_quants: symmetric quants in [−nmax, nmax) (stored + nmax), with do_rmse an x²-weighted coordinate
     * descent of up to 5 passes over single quants.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int xo, int[] L, int lo, boolean doRmse) {
        float amax = absMax(x, xo, n), max = signedAbsMax(x, xo, n, amax); // without the C loop's branches
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        if (doRmse) {
            float sumlx = 0;
            float suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = nearestInt(iscale * xi);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                L[lo + i] = l;
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            for (int itry = 0; itry < 5; ++itry) {
                int nChanged = 0;
                for (int i = 0; i < n; ++i) {
                    float xi = x[xo + i];
                    float w = xi * xi;
                    int li = L[lo + i];
                    float slx = sumlx - w * xi * li;
                    if (slx > 0) {
                        float sl2 = suml2 - w * li * li;
                        int newL = nearestInt(xi * sl2 / slx);
                        newL = Math.max(-nmax, Math.min(nmax - 1, newL));
                        if (newL != li) {
                            slx += w * xi * newL;
                            sl2 += w * newL * newL;
                            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                                L[lo + i] = newL;
                                sumlx = slx;
                                suml2 = sl2;
                                ++nChanged;
                            }
                        }
                    }
                }
                if (nChanged == 0) break;
            }
            for (int i = 0; i < n; ++i) L[lo + i] += nmax;
            return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
        }
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[xo + i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
        }
        return 1 / iscale;
    }

    /**
     * make_qkx2_quants: asymmetric quants L[i] ∈ [0, nmax] with scale and min (min ≤ 0), trying nstep + 1 scales
     * (rmin + rdelta·is + nmax)/(max − min) and solving weighted least squares for scale and min each time. Returns
     * the scale; theMin[0] receives −min (≥ 0). laux is scratch of n ints.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin,
            int[] laux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            float xi = x[xo + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            float w = weights[i];
            bestError += w * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        if (Qkx2Trials.fits(n)) {
            float[] r = Qkx2Trials.search(n, nmax, x, xo, weights, L, lo, rmin, rdelta, nstep, useMad, sumW, sumX, min, max, bestError, scale);
            theMin[0] = -r[1];
            return r[0];
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
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    float w = weights[i];
                    curError += w * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, L, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * best_index_int8 of the reference (bisection, then the nearer neighbour; a tie goes to the upper one): the
     * index of the codebook value nearest to x. val is sorted ascending.
     */
    static int bestIndexInt8(int n, int[] val, float x) {
        if (x <= val[0]) return 0;
        if (x >= val[n - 1]) return n - 1;
        int ml = 0, mu = n - 1;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < val[mav]) mu = mav;
            else ml = mav;
        }
        return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
    }

    /** get_scale_min_k4: the 6-bit scale (sm[0]) and min (sm[1]) of sub-block j from the 12 packed bytes q[qo ..]. */
    static int scaleK4(int j, byte[] q, int qo) {
        return j < 4 ? q[qo + j] & 63 : (q[qo + j + 4] & 0xF) | (((q[qo + j - 4] & 0xff) >> 6) << 4);
    }

    static int minK4(int j, byte[] q, int qo) {
        return j < 4 ? q[qo + j + 4] & 63 : ((q[qo + j + 4] & 0xff) >> 4) | (((q[qo + j] & 0xff) >> 6) << 4);
    }

    static int scaleK4(int j, MemorySegment s, long qo) {
        return j < 4 ? u8(s, qo + j) & 63 : (u8(s, qo + j + 4) & 0xF) | ((u8(s, qo + j - 4) >> 6) << 4);
    }

    static int minK4(int j, MemorySegment s, long qo) {
        return j < 4 ? u8(s, qo + j + 4) & 63 : (u8(s, qo + j + 4) >> 4) | ((u8(s, qo + j) >> 6) << 4);
    }

    /** Per-call scratch of {@link #quantizeK4}: two super-blocks' weights, scales and mins. */
    static final class K4Scratch {
        final float[] weights = new float[32];
        final float[] scales = new float[16];
        final float[] mins = new float[16];
        final float[] theMin = new float[1];
        final int[] laux = new int[32];
        final float[] allWeights = new float[512];
        final Qkx2Lanes.Scratch lanes = Qkx2Lanes.USABLE ? Qkx2Lanes.scratch(32) : null;
    }

    /**
     * What quantize_row_q4_K_ref and quantize_row_q5_K_ref share, for count (1 or 2) super-blocks of 256 at x[xo ..]:
     * per group of 32, make_qkx2_quants with weights av_x + |x| (av_x = rms of the group), the groups' searches side by
     * side ({@link Qkx2Lanes}: both super-blocks' 16 groups at once where vectors hold 16 floats); then each
     * super-block k as {@link #finishK4}, its block at dst[y + blockBytes·k], its quants in L[256k .. 256k + 256).
     */
    static void quantizeK4(float[] x, int xo, int count, int blockBytes, int nmax, float rmin, float rdelta, int nstep, byte[] dst, int y,
            int[] L, K4Scratch s) {
        float[] weights = s.weights, scales = s.scales, mins = s.mins;
        boolean lanes = s.lanes != null && nstep >= 1;
        for (int j = 0; j < 8 * count; ++j) {
            int g = xo + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += x[g + l] * x[g + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            if (lanes) {
                for (int l = 0; l < 32; ++l) s.allWeights[32 * j + l] = avX + Math.abs(x[g + l]);
                continue;
            }
            for (int l = 0; l < 32; ++l) weights[l] = avX + Math.abs(x[g + l]);
            scales[j] = makeQkx2Quants(32, nmax, x, g, weights, L, 32 * j, s.theMin, s.laux, rmin, rdelta, nstep, false);
            mins[j] = s.theMin[0];
        }
        for (int j = 0; lanes && j < 8 * count; j += Qkx2Lanes.GROUPS)
            Qkx2Lanes.run(Math.min(Qkx2Lanes.GROUPS, 8 * count - j), nmax, x, xo + 32 * j, s.allWeights, 32 * j, L, 32 * j, scales, mins, j, rmin,
                    rdelta, nstep, false, s.lanes);
        for (int k = 0; k < count; k++) finishK4(x, xo + 256 * k, nmax, dst, y + blockBytes * k, L, 256 * k, scales, mins, 8 * k);
    }

    /**
     * One super-block of 256 at x[xo ..] from its 8 groups' scales and mins (scales[so ..], mins[so ..]) and searched
     * quants (L[lo ..]): scales and mins quantized to 6 bits against d = max_scale/63 and dmin = max_min/63 (f16 d at
     * dst[y], dmin at y + 2, packed scales at y + 4); then every quant recomputed from the stored scales into L[lo ..].
     */
    static void finishK4(float[] x, int xo, int nmax, byte[] dst, int y, int[] L, int lo, float[] scales, float[] mins, int so) {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            float scale = scales[so + j];
            if (scale > maxScale) maxScale = scale;
            float min = mins[so + j];
            if (min > maxMin) maxMin = min;
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int sc = y + 4;
        for (int j = 0; j < 8; ++j) {
            int ls = nearestInt(invScale * scales[so + j]) & 0xff; // uint8_t ls = nearest_int(..)
            int lm = nearestInt(invMin * mins[so + j]) & 0xff;
            ls = Math.min(63, ls);
            lm = Math.min(63, lm);
            if (j < 4) {
                dst[sc + j] = (byte) ls;
                dst[sc + j + 4] = (byte) lm;
            } else {
                dst[sc + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                dst[sc + j - 4] |= (byte) ((ls >> 4) << 6);
                dst[sc + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        putF16(dst, y, maxScale / 63.f);
        putF16(dst, y + 2, maxMin / 63.f);
        float dAll = f16(dst, y), dminAll = f16(dst, y + 2);
        for (int j = 0; j < 8; ++j) {
            float d = dAll * scaleK4(j, dst, sc);
            if (d == 0) continue;
            float dm = dminAll * minK4(j, dst, sc);
            groupQuantsMin(x, xo + 32 * j, 32, d, dm, nmax, L, lo + 32 * j);
        }
    }

    /**
     * The final quants of an asymmetric K-quant group (Q2_K, Q4_K, Q5_K): L[lo + i] = MAX(0, MIN(nmax, nearest_int((x[xo
     * + i] + dm) / d))) for i < n, in {@link BlockDots#groupQuantsMin}'s lanes where they run (the same ints). 82M
     * exports, medians of 6 alternating: Q2_K 1.44 -> 1.39 s, Q4_K_M 1.56 -> 1.50 s.
     */
    static void groupQuantsMin(float[] x, int xo, int n, float d, float dm, int nmax, int[] L, int lo) {
        if (BlockDots.USABLE) {
            BlockDots.groupQuantsMin(x, xo, n, d, dm, nmax, L, lo);
            return;
        }
        groupQuantsMinScalar(x, xo, n, d, dm, nmax, L, lo);
    }

    /** {@link #groupQuantsMin} as the reference's loop. */
    static void groupQuantsMinScalar(float[] x, int xo, int n, float d, float dm, int nmax, int[] L, int lo) {
        for (int i = 0; i < n; ++i) {
            int l = nearestInt((x[xo + i] + dm) / d);
            L[lo + i] = Math.max(0, Math.min(nmax, l));
        }
    }

    /**
     * quantize_row_iq4_nl_impl with quant_weights = NULL (weights x²; with quant_weights qw·sqrt(sigma2 + x²), sigma2 =
     * 2·mean x² of the super-block) and values = kvalues_iq4nl, for one super-block
     * of superBlockSize at x[xo ..]: per block of blockSize, the scale −max/values[0] refined over 2·ntry + 1 trial
     * scales (itry + values[0])/max by weighted least squares. With one block (IQ4_NL) the f16 d is the block's scale;
     * with several (IQ4_XS) d = −max_scale/32 and each block keeps a 6-bit signed multiple of d (low nibbles at
     * dst[scalesL ..], high 2 bits in the little-endian u16 at dst[scalesH]). Quants are packed as in Q4_0 at dst[q4].
     * scales (superBlockSize/blockSize floats), weight (blockSize) and L (superBlockSize) are scratch.
     */
    static void quantizeIq4NlImpl(int superBlockSize, int blockSize, float[] x, int xo, byte[] dst, int dh, int q4,
            int scalesH, int scalesL, float[] scales, float[] weight, int[] L, int ntry) {
        quantizeIq4NlImpl(superBlockSize, blockSize, x, xo, dst, dh, q4, scalesH, scalesL, scales, weight, L, ntry, null, 0);
    }

    /** As above with quant_weights qw[qo ..] (the importance of each element of the super-block), or qw = null. */
    static void quantizeIq4NlImpl(int superBlockSize, int blockSize, float[] x, int xo, byte[] dst, int dh, int q4,
            int scalesH, int scalesL, float[] scales, float[] weight, int[] L, int ntry, float[] qw, int qo) {
        final int[] values = KVALUES_IQ4NL;
        float sigma2 = 0;
        if (qw != null) {
            for (int j = 0; j < superBlockSize; ++j) sigma2 += x[xo + j] * x[xo + j];
            sigma2 *= 2.f / superBlockSize;
        }
        for (int j = 0; j < superBlockSize / 2; j++) dst[q4 + j] = 0;
        putF16(dst, dh, 0.f);

        float maxScale = 0, amaxScale = 0;
        for (int ib = 0; ib < superBlockSize / blockSize; ++ib) {
            int xb = xo + ib * blockSize;
            int lb = ib * blockSize;
            if (qw != null) {
                int wb = qo + ib * blockSize;
                for (int j = 0; j < blockSize; ++j) weight[j] = qw[wb + j] * (float) Math.sqrt(sigma2 + x[xb + j] * x[xb + j]);
            } else {
                for (int j = 0; j < blockSize; ++j) weight[j] = x[xb + j] * x[xb + j];
            }
            float amax = absMax(x, xb, blockSize), max = signedAbsMax(x, xb, blockSize, amax);
            if (amax < GROUP_MAX_EPS) {
                scales[ib] = 0;
                continue;
            }
            if (Iq4Trials.fits(blockSize)) {
                float d = Iq4Trials.search(blockSize, x, xb, weight, L, lb, max, ntry);
                scales[ib] = d;
                float absD = Math.abs(d);
                if (absD > amaxScale) { amaxScale = absD; maxScale = d; }
                continue;
            }
            float d = ntry > 0 ? -max / values[0] : max / values[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < blockSize; ++j) {
                float al = id * x[xb + j];
                int l = bestIndexInt8(16, values, al);
                L[lb + j] = l;
                float q = values[l];
                float w = weight[j];
                sumqx += w * q * x[xb + j];
                sumq2 += w * q * q;
            }
            d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; ++itry) {
                id = (itry + values[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < blockSize; ++j) {
                    float al = id * x[xb + j];
                    int l = bestIndexInt8(16, values, al);
                    float q = values[l];
                    float w = weight[j];
                    sumqx += w * q * x[xb + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scales[ib] = d;
            float absD = Math.abs(d);
            if (absD > amaxScale) { amaxScale = absD; maxScale = d; }
        }

        if (superBlockSize / blockSize > 1) {
            int nb = superBlockSize / blockSize;
            int sh = 0; // scales_h, at most 8 blocks here (one uint16_t)
            float d = -maxScale / 32;
            putF16(dst, dh, d);
            float id = d != 0 ? 1 / d : 0.f;
            for (int ib = 0; ib < nb; ++ib) {
                int l = nearestInt(id * scales[ib]);
                l = Math.max(-32, Math.min(31, l));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                int lb = ib * blockSize, xb = xo + ib * blockSize;
                if (Iq4Trials.fits(blockSize)) Iq4Trials.indices(blockSize, x, xb, idl, L, lb);
                else for (int j = 0; j < blockSize; ++j) L[lb + j] = bestIndexInt8(16, values, idl * x[xb + j]);
                l += 32;
                int lLow = l & 0xf, lHigh = l >> 4;
                if (ib % 2 == 0) dst[scalesL + ib / 2] = (byte) lLow;
                else dst[scalesL + ib / 2] |= (byte) (lLow << 4);
                sh |= lHigh << 2 * (ib % 8);
            }
            dst[scalesH] = (byte) sh;
            dst[scalesH + 1] = (byte) (sh >> 8);
        } else {
            putF16(dst, dh, scales[0]);
            if (ntry > 0) {
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                if (Iq4Trials.fits(superBlockSize)) Iq4Trials.indices(superBlockSize, x, xo, id, L, 0);
                else for (int j = 0; j < superBlockSize; ++j) L[j] = bestIndexInt8(16, values, id * x[xo + j]);
            }
        }

        for (int i = 0; i < superBlockSize / 32; ++i) {
            for (int j = 0; j < 16; ++j) dst[q4 + 16 * i + j] = (byte) (L[32 * i + j] | (L[32 * i + 16 + j] << 4));
        }
    }
}
