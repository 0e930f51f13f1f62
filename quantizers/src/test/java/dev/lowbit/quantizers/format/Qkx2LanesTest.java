package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Groups searched side by side (Qkx2Lanes) against the literal transcription of ggml-quants.c's make_qkx2_quants in
 * {@link KQuantSearchTest#reference}, one group at a time, bit for bit: scale, the_min and every quant, with Q4_K's and
 * Q5_K's parameters (8 groups of 32, squared error) and Q2_K's (16 groups of 16, absolute error), as many groups as
 * lanes or fewer. Super-blocks mix ordinary groups with those where a later trial moves the minimum (all values
 * positive, clustered), flat groups (every value equal: the reference's early return), all-zero groups with a
 * negative zero, and groups of wildly different magnitudes.
 */
class Qkx2LanesTest {
    @Test
    void eachLaneIsTheReferenceSearch() {
        Assumptions.assumeTrue(Qkx2Lanes.USABLE, "no vectors of 8 or 16 floats here: the scalar search runs instead");
        Random r = new Random(11);
        // nmax, rmin, rdelta, nstep, n, use_mad
        float[][] params = {{15, -1f, 0.1f, 20, 32, 0}, {31, -0.5f, 0.1f, 15, 32, 0}, {3, -0.5f, 0.1f, 15, 16, 1}};
        for (int trial = 0; trial < 600; trial++) {
            float[] p = params[trial % 3];
            int nmax = (int) p[0], nstep = (int) p[3], n = (int) p[4];
            boolean useMad = p[5] != 0;
            int groups = trial % 5 == 4 ? 1 + r.nextInt(Qkx2Lanes.GROUPS) : Qkx2Lanes.GROUPS;
            Qkx2Lanes.Scratch s = Qkx2Lanes.scratch(n);
            float[] x = new float[n * groups + 5], weights = new float[n * groups + 3];
            int xo = 5, wo = 3;
            for (int j = 0; j < groups; j++) {
                int kind = r.nextInt(6);
                float mag = (float) Math.pow(10, r.nextInt(7) - 4), centre = (float) r.nextGaussian() * mag;
                for (int i = 0; i < n; i++) {
                    float v = switch (kind) {
                        case 0 -> (float) r.nextGaussian() * mag;
                        case 1 -> Math.abs((float) r.nextGaussian()) * mag + mag; // all positive: min starts at 0
                        case 2 -> centre + (float) r.nextGaussian() * mag * 1e-3f; // clustered
                        case 3 -> centre; // flat
                        case 4 -> i == 7 ? -0f : 0f;
                        default -> (float) (r.nextGaussian() * mag * (i % 5 == 0 ? 30 : 1));
                    };
                    x[xo + n * j + i] = v;
                }
                float sumX2 = 0;
                for (int i = 0; i < n; i++) sumX2 += x[xo + n * j + i] * x[xo + n * j + i];
                float avX = (float) Math.sqrt(sumX2 / n);
                for (int i = 0; i < n; i++) weights[wo + n * j + i] = useMad ? Math.abs(x[xo + n * j + i]) : avX + Math.abs(x[xo + n * j + i]);
            }
            int[] L = new int[2 + n * groups];
            float[] scales = new float[1 + groups], mins = new float[1 + groups];
            Qkx2Lanes.run(groups, nmax, x, xo, weights, wo, L, 2, scales, mins, 1, p[1], p[2], nstep, useMad, s);
            for (int j = 0; j < groups; j++) {
                float[] g = new float[n], w = new float[n], theMin = new float[1];
                System.arraycopy(x, xo + n * j, g, 0, n);
                System.arraycopy(weights, wo + n * j, w, 0, n);
                int[] want = new int[n];
                float scale = KQuantSearchTest.reference(n, nmax, g, w, want, theMin, p[1], p[2], nstep, useMad);
                String what = "super-block " + trial + " group " + j + " of " + groups;
                assertEquals(Float.floatToRawIntBits(scale), Float.floatToRawIntBits(scales[1 + j]), what + ": scale " + scale + " vs " + scales[1 + j]);
                assertEquals(Float.floatToRawIntBits(theMin[0]), Float.floatToRawIntBits(mins[1 + j]), what + ": the_min " + theMin[0] + " vs " + mins[1 + j]);
                int[] got = new int[n];
                System.arraycopy(L, 2 + n * j, got, 0, n);
                assertArrayEquals(want, got, what + ": quants");
            }
        }
    }
}
