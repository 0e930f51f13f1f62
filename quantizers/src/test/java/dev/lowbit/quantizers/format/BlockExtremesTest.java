package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The branch-free block extremes against the C loops of ggml-quants.c, transcribed literally here, on blocks built
 * to hit their corner cases: +0 and −0 together, equal magnitudes of both signs, one value repeated, subnormals,
 * the largest floats and infinities. Compared bit for bit (floatToRawIntBits), so the sign of a zero counts.
 */
class BlockExtremesTest {
    static final float[] SPECIAL = {0f, -0f, 1f, -1f, 0.5f, -0.5f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e-39f, -3e-39f, 127f, -127f};

    /** quantize_row_q8_0_ref: amax = MAX(amax, fabsf(v)) from 0. */
    static float cAbsMax(float[] x, int o, int n) {
        float amax = 0.0f;
        for (int j = 0; j < n; j++) {
            float v = Math.abs(x[o + j]);
            amax = amax > v ? amax : v;
        }
        return amax;
    }

    /** quantize_row_q4_0_ref: if (amax < fabsf(v)) { amax = fabsf(v); max = v; } from 0, 0. */
    static float cSignedAbsMax(float[] x, int o, int n) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < n; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /** quantize_row_q4_1_ref: min from FLT_MAX, max from −FLT_MAX, strict comparisons. */
    static float[] cMinMax(float[] x, int o, int n) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < n; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return new float[] {min, max};
    }

    @Test
    void extremesEqualTheCLoopsBitForBit() {
        Random r = new Random(7);
        float[] x = new float[32];
        for (int trial = 0; trial < 200_000; trial++) {
            int kind = trial % 4;
            for (int j = 0; j < 32; j++) {
                x[j] = switch (kind) {
                    case 0 -> SPECIAL[r.nextInt(SPECIAL.length)];
                    case 1 -> r.nextBoolean() ? 0f : -0f; // all zeros of mixed signs
                    case 2 -> (r.nextBoolean() ? 1 : -1) * (r.nextInt(3) * 0.25f); // many ties of magnitude
                    default -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(20) - 10));
                };
            }
            String block = Arrays.toString(x);
            float amax = GgmlQuants.absMax(x, 0, 32);
            assertEquals(Float.floatToRawIntBits(cAbsMax(x, 0, 32)), Float.floatToRawIntBits(amax), block);
            assertEquals(Float.floatToRawIntBits(cSignedAbsMax(x, 0, 32)), Float.floatToRawIntBits(GgmlQuants.signedAbsMax(x, 0, 32, amax)), block);
            float[] mm = cMinMax(x, 0, 32);
            assertEquals(Float.floatToRawIntBits(mm[0]), Float.floatToRawIntBits(GgmlQuants.min(x, 0, 32)), block);
            assertEquals(Float.floatToRawIntBits(mm[1]), Float.floatToRawIntBits(GgmlQuants.max(x, 0, 32)), block);
        }
    }

    @Test
    void roundfIntIsRoundfHalfAwayFromZero() {
        float[] cases = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, 126.5f, -127.5f, 0f, -0f, 8388607.5f};
        int[] expected = {1, -1, 2, -2, 3, -3, 0, 0, 127, -128, 0, 0, 8388608};
        for (int i = 0; i < cases.length; i++) assertEquals(expected[i], GgmlQuants.roundfInt(cases[i]), "roundf(" + cases[i] + ")");
        assertEquals(0, GgmlQuants.roundfInt(Float.NaN));
        Random r = new Random(3);
        for (int i = 0; i < 1_000_000; i++) {
            float v = (r.nextFloat() - 0.5f) * 300;
            assertEquals((int) GgmlQuants.roundf(v), GgmlQuants.roundfInt(v), "roundf(" + v + ")");
        }
    }
}
