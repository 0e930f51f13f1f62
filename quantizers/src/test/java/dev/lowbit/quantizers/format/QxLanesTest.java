package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * make_qx_quants (rmse_type 1) for eight groups side by side (QxLanes) against a literal transcription of
 * ggml-quants.c's function, one group at a time, bit for bit: the scale and every quant, for Q6_K's groups of 16
 * (nmax 32). Groups mix ordinary values, a largest magnitude that appears twice with both signs (the first wins),
 * near-zero groups under GROUP_MAX_EPS (the early return), all-equal groups, and outliers.
 */
class QxLanesTest {
    static int nearestInt(float fval) {
        int i = Float.floatToRawIntBits(fval + 12582912.f);
        return (i & 0x007fffff) - 0x00400000;
    }

    /** make_qx_quants of ggml-quants.c with qw = NULL, rmse_type = 1, transcribed. */
    static float reference(int n, int nmax, float[] x, int[] L) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < 1e-15f) { // GROUP_MAX_EPS
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[i] = l + nmax;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * x[i]);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[i]);
                    L[i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    @Test
    void eachLaneIsTheReferenceSearch() {
        Assumptions.assumeTrue(QxLanes.USABLE, "no native 256-bit vectors here: the scalar search runs instead");
        Random r = new Random(12);
        QxLanes.Scratch s = new QxLanes.Scratch();
        int n = 16, nmax = 32;
        for (int trial = 0; trial < 500; trial++) {
            float[] x = new float[8 * n + 3];
            int xo = 3;
            for (int j = 0; j < 8; j++) {
                int kind = r.nextInt(6);
                float mag = (float) Math.pow(10, r.nextInt(9) - 5);
                for (int i = 0; i < n; i++)
                    x[xo + n * j + i] = switch (kind) {
                        case 0 -> (float) r.nextGaussian() * mag;
                        case 1 -> i == 3 ? mag : i == 9 ? -mag : (float) r.nextGaussian() * mag * 0.3f; // ±max twice
                        case 2 -> (float) r.nextGaussian() * 1e-17f; // under GROUP_MAX_EPS
                        case 3 -> mag;
                        case 4 -> (float) r.nextGaussian() * mag * (i == 5 ? 50 : 1);
                        default -> Math.abs((float) r.nextGaussian()) * mag;
                    };
            }
            int[] L = new int[8 * n + 7];
            float[] scales = new float[10];
            QxLanes.run(n, nmax, x, xo, L, 7, scales, 2, s);
            for (int j = 0; j < 8; j++) {
                float[] g = new float[n];
                System.arraycopy(x, xo + n * j, g, 0, n);
                int[] want = new int[n], got = new int[n];
                float scale = reference(n, nmax, g, want);
                System.arraycopy(L, 7 + n * j, got, 0, n);
                String what = "trial " + trial + " group " + j;
                assertEquals(Float.floatToRawIntBits(scale), Float.floatToRawIntBits(scales[2 + j]), what + ": scale " + scale + " vs " + scales[2 + j]);
                assertArrayEquals(want, got, what + ": quants");
            }
        }
    }
}
