package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * make_qkx2_quants as lowbit runs it (trial scales three at a time in vector lanes) against a literal transcription
 * of ggml-quants.c's loop, on random blocks of the shapes the K-quants use (Q4_K/Q5_K: 32 values, Q2_K: 16 with
 * mean absolute deviation), including blocks where a better trial moves the minimum (all values positive, or
 * clustered), compared bit for bit: scale, min and every quant.
 */
class KQuantSearchTest {
    static int nearestInt(float fval) {
        int i = Float.floatToRawIntBits(fval + 12582912.f);
        return (i & 0x007fffff) - 0x00400000;
    }

    /** make_qkx2_quants of ggml-quants.c, transcribed. */
    static float reference(int n, int nmax, float[] x, float[] weights, int[] L, float[] theMin, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[0], max = x[0], sumW = weights[0], sumX = sumW * x[0];
        for (int i = 1; i < n; ++i) {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; ++i) L[i] = 0;
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min), scale = 1 / iscale, bestError = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[i] - min));
            L[i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        int[] laux = new int[n];
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; ++i) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[i] - min))));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / D, thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, L, 0, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    @Test
    void searchEqualsTheReferenceBitForBit() {
        Random r = new Random(17);
        int[][] shapes = {{32, 15, 20, 0}, {32, 31, 20, 0}, {16, 3, 15, 1}};
        float[][] steps = {{-1f, 0.1f}, {-1f, 0.1f}, {-0.5f, 0.1f}};
        for (int s = 0; s < shapes.length; s++) {
            int n = shapes[s][0], nmax = shapes[s][1], nstep = shapes[s][2];
            boolean mad = shapes[s][3] == 1;
            for (int trial = 0; trial < 20_000; trial++) {
                float[] x = new float[n], w = new float[n];
                int kind = trial % 4;
                for (int i = 0; i < n; i++) {
                    double g = r.nextGaussian();
                    x[i] = (float) switch (kind) {
                        case 0 -> g * 0.02;
                        case 1 -> Math.abs(g) * 0.01 + 0.001; // all positive: min starts at 0
                        case 2 -> (r.nextInt(4) - 1) * 0.01 + g * 1e-4; // clusters
                        default -> g * Math.pow(10, r.nextInt(6) - 4);
                    };
                }
                float sumX2 = 0;
                for (float v : x) sumX2 += v * v;
                float av = (float) Math.sqrt(sumX2 / n);
                for (int i = 0; i < n; i++) w[i] = mad ? 1 : av + Math.abs(x[i]);
                int[] expectedL = new int[n], actualL = new int[n];
                float[] expectedMin = new float[1], actualMin = new float[1];
                float expected = reference(n, nmax, x, w, expectedL, expectedMin, steps[s][0], steps[s][1], nstep, mad);
                float actual = GgmlQuants.makeQkx2Quants(n, nmax, x, 0, w, actualL, 0, actualMin, new int[3 * n], steps[s][0], steps[s][1], nstep, mad);
                String what = "shape " + s + " trial " + trial;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what);
                assertEquals(Float.floatToRawIntBits(expectedMin[0]), Float.floatToRawIntBits(actualMin[0]), what);
                assertArrayEquals(expectedL, actualL, what);
            }
        }
    }
}
