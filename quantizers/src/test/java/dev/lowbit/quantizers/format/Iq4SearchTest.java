package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * quantize_row_iq4_nl_impl's per-block scale search as lowbit runs it (codebook lookups without branches, three trial
 * scales at a time) against a literal transcription of ggml-quants.c (best_index_int8's bisection, one trial after
 * the other): the same scale bit for bit and the same first-pass indices, on blocks with and without importance
 * weights, values on and between codebook midpoints, and zeros.
 */
class Iq4SearchTest {
    static final int[] V = GgmlQuants.KVALUES_IQ4NL;

    static int bestIndexInt8(float x) {
        if (x <= V[0]) return 0;
        if (x >= V[15]) return 15;
        int ml = 0, mu = 15;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < V[mav]) mu = mav;
            else ml = mav;
        }
        return x - V[mu - 1] < V[mu] - x ? mu - 1 : mu;
    }

    /** The block part of quantize_row_iq4_nl_impl, transcribed: returns d, L[0..n) from the first pass. */
    static float reference(int n, float[] x, float[] weight, int[] L, float max, int ntry) {
        float d = ntry > 0 ? -max / V[0] : max / V[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < n; ++j) {
            float al = id * x[j];
            int l = bestIndexInt8(al);
            L[j] = l;
            float q = V[l];
            float w = weight[j];
            sumqx += w * q * x[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            id = (itry + V[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < n; ++j) {
                float al = id * x[j];
                float q = V[bestIndexInt8(al)];
                float w = weight[j];
                sumqx += w * q * x[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    @Test
    void searchEqualsTheReferenceBitForBit() {
        Random r = new Random(23);
        int n = 32;
        for (int trial = 0; trial < 40_000; trial++) {
            float[] x = new float[n], w = new float[n];
            int kind = trial % 4;
            for (int j = 0; j < n; j++) {
                x[j] = (float) switch (kind) {
                    case 0 -> r.nextGaussian() * 0.02;
                    case 1 -> V[r.nextInt(16)] * 0.001 + (r.nextInt(3) - 1) * 0.0005; // on and between codebook points
                    case 2 -> r.nextInt(5) == 0 ? 0 : r.nextGaussian();
                    default -> r.nextGaussian() * Math.pow(10, r.nextInt(8) - 6);
                };
                w[j] = trial % 2 == 0 ? x[j] * x[j] : (float) (r.nextDouble() * Math.sqrt(1e-4 + x[j] * x[j]));
            }
            float amax = 0, max = 0;
            for (float v : x) if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
            if (amax < 1e-15f) continue;
            int ntry = trial % 3 == 0 ? 0 : 7;
            int[] expectedL = new int[n], actualL = new int[n];
            float expected = reference(n, x, w, expectedL, max, ntry);
            float actual = Iq4Trials.search(n, x, 0, w, actualL, 0, max, ntry);
            String what = "trial " + trial + " " + Arrays.toString(x);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what);
            assertArrayEquals(expectedL, actualL, what);
        }
    }
}
