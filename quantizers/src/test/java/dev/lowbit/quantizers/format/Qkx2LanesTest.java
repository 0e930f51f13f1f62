package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The eight groups of a super-block searched side by side (Qkx2Lanes) against the literal transcription of
 * ggml-quants.c's make_qkx2_quants in {@link KQuantSearchTest#reference}, one group at a time, bit for bit: scale,
 * the_min and every quant, with Q4_K's and Q5_K's parameters. Super-blocks mix ordinary groups with those where a
 * later trial moves the minimum (all values positive, clustered), flat groups (every value equal: the reference's
 * early return), all-zero groups with a negative zero, and groups of wildly different magnitudes.
 */
class Qkx2LanesTest {
    @Test
    void eachLaneIsTheReferenceSearch() {
        Assumptions.assumeTrue(Qkx2Lanes.USABLE, "no native 256-bit vectors here: the scalar search runs instead");
        Random r = new Random(11);
        float[][] params = {{15, -1f, 0.1f, 20}, {31, -0.5f, 0.1f, 15}};
        Qkx2Lanes.Scratch s = new Qkx2Lanes.Scratch();
        for (int trial = 0; trial < 400; trial++) {
            float[] p = params[trial % 2];
            int nmax = (int) p[0], nstep = (int) p[3];
            float[] x = new float[256 + 5], weights = new float[256];
            int xo = 5;
            for (int j = 0; j < 8; j++) {
                int kind = r.nextInt(6);
                float mag = (float) Math.pow(10, r.nextInt(7) - 4), centre = (float) r.nextGaussian() * mag;
                for (int i = 0; i < 32; i++) {
                    float v = switch (kind) {
                        case 0 -> (float) r.nextGaussian() * mag;
                        case 1 -> Math.abs((float) r.nextGaussian()) * mag + mag; // all positive: min starts at 0
                        case 2 -> centre + (float) r.nextGaussian() * mag * 1e-3f; // clustered
                        case 3 -> centre; // flat
                        case 4 -> i == 7 ? -0f : 0f;
                        default -> (float) (r.nextGaussian() * mag * (i % 5 == 0 ? 30 : 1));
                    };
                    x[xo + 32 * j + i] = v;
                }
                float sumX2 = 0;
                for (int i = 0; i < 32; i++) sumX2 += x[xo + 32 * j + i] * x[xo + 32 * j + i];
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int i = 0; i < 32; i++) weights[32 * j + i] = avX + Math.abs(x[xo + 32 * j + i]);
            }
            int[] L = new int[256];
            float[] scales = new float[8], mins = new float[8];
            Qkx2Lanes.run(nmax, x, xo, weights, L, scales, mins, p[1], p[2], nstep, s);
            for (int j = 0; j < 8; j++) {
                float[] g = new float[32], w = new float[32], theMin = new float[1];
                System.arraycopy(x, xo + 32 * j, g, 0, 32);
                System.arraycopy(weights, 32 * j, w, 0, 32);
                int[] want = new int[32];
                float scale = KQuantSearchTest.reference(32, nmax, g, w, want, theMin, p[1], p[2], nstep, false);
                String what = "super-block " + trial + " group " + j;
                assertEquals(Float.floatToRawIntBits(scale), Float.floatToRawIntBits(scales[j]), what + ": scale " + scale + " vs " + scales[j]);
                assertEquals(Float.floatToRawIntBits(theMin[0]), Float.floatToRawIntBits(mins[j]), what + ": the_min " + theMin[0] + " vs " + mins[j]);
                int[] got = new int[32];
                System.arraycopy(L, 32 * j, got, 0, 32);
                assertArrayEquals(want, got, what + ": quants");
            }
        }
    }
}
