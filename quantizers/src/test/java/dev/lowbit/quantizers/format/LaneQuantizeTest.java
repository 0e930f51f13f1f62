package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 quantized in vector lanes give the scalar encoders' bytes (which GgmlReferenceTest holds to
 * llama-quantize's): random blocks over many magnitudes, and the blocks where an order or a rounding rule shows — all
 * zeros, a largest magnitude of both signs (the first wins), values on the half-way points of roundf and of
 * x·id + 8.5, subnormals, infinities and NaN.
 */
class LaneQuantizeTest {
    /** An encoder of n values from src[0] to dst[off]. */
    interface Encoder {
        void encode(float[] src, int srcOff, int n, byte[] dst, int dstOff);
    }

    @Test
    void q8_0LanesAreTheScalarBytes() {
        check(34, Q8_0::quantizeScalar, Q8_0::quantizeLanes);
    }

    @Test
    void q4_0LanesAreTheScalarBytes() {
        check(18, Q4_0::quantizeScalar, Q4_0::quantizeLanes);
    }

    @Test
    void q4_1LanesAreTheScalarBytes() {
        check(20, Q4_1::quantizeScalar, Q4_1::quantizeLanes);
    }

    @Test
    void q5_0LanesAreTheScalarBytes() {
        check(22, Q5_0::quantizeScalar, Q5_0::quantizeLanes);
    }

    @Test
    void q5_1LanesAreTheScalarBytes() {
        check(24, Q5_1::quantizeScalar, Q5_1::quantizeLanes);
    }

    private static void check(int blockBytes, Encoder scalar, Encoder lanes) {
        for (float[] v : blocks()) {
            byte[] want = new byte[blockBytes * v.length / 32 + 3], got = want.clone();
            scalar.encode(v, 0, v.length, want, 3);
            lanes.encode(v, 0, v.length, got, 3);
            assertArrayEquals(want, got, describe(v));
        }
    }

    private static List<float[]> blocks() {
        List<float[]> out = new ArrayList<>();
        Random r = new Random(17);
        for (int i = 0; i < 400; i++) {
            float[] v = new float[32 * (1 + r.nextInt(4))];
            double scale = Math.pow(10, r.nextInt(12) - 8);
            for (int j = 0; j < v.length; j++) v[j] = (float) (r.nextGaussian() * scale);
            if (i % 7 == 0) v[r.nextInt(v.length)] = 0f;
            out.add(v);
        }
        out.add(new float[32]);
        float[] bothSigns = new float[32];
        bothSigns[3] = -2f;
        bothSigns[9] = 2f;
        bothSigns[20] = 1.5f;
        out.add(bothSigns);
        float[] flipped = bothSigns.clone();
        flipped[3] = 2f;
        flipped[9] = -2f;
        out.add(flipped);
        float[] q8Ties = new float[32]; // amax 127: d = 1, x·id = x
        for (int j = 0; j < 31; j++) q8Ties[j] = (j - 15) + 0.5f * (j % 2 == 0 ? 1 : -1);
        q8Ties[31] = 127f;
        out.add(q8Ties);
        float[] nearHalf = q8Ties.clone();
        nearHalf[4] = 0.49999997f;
        nearHalf[5] = -0.49999997f;
        nearHalf[6] = 2.5000002f;
        out.add(nearHalf);
        float[] q4Ties = new float[32]; // max −8: d = 1, x·id + 8.5 lands on integers and halves
        for (int j = 0; j < 32; j++) q4Ties[j] = -8f + j * 0.5f;
        q4Ties[0] = -8f;
        out.add(q4Ties);
        float[] tiny = new float[32];
        for (int j = 0; j < 32; j++) tiny[j] = Float.MIN_VALUE * (j - 16);
        out.add(tiny);
        float[] inf = new float[32];
        inf[2] = Float.POSITIVE_INFINITY;
        inf[7] = 1f;
        out.add(inf);
        float[] q4_1Ties = new float[32]; // min 0.25, max 15.25: d = 1, (x − min)·id + 0.5 lands on integers and halves
        for (int j = 0; j < 32; j++) q4_1Ties[j] = 0.25f + (j % 31) * 0.5f;
        out.add(q4_1Ties);
        float[] zeroMin = new float[32]; // −0 and +0 as the least value, in both orders (the reference keeps the first)
        zeroMin[1] = -0f;
        zeroMin[4] = 3f;
        out.add(zeroMin);
        float[] zeroMin2 = zeroMin.clone();
        zeroMin2[0] = -0f;
        zeroMin2[1] = 0f;
        out.add(zeroMin2);
        float[] zeroMax = new float[32];
        for (int j = 0; j < 32; j++) zeroMax[j] = j == 7 ? -0f : -1f - j;
        out.add(zeroMax);
        float[] allInf = new float[32];
        java.util.Arrays.fill(allInf, Float.POSITIVE_INFINITY);
        out.add(allInf);
        float[] negInf = new float[32];
        negInf[9] = Float.NEGATIVE_INFINITY;
        negInf[10] = 2f;
        out.add(negInf);
        float[] huge = new float[32]; // max − min overflows to infinity
        huge[0] = Float.MAX_VALUE;
        huge[1] = -Float.MAX_VALUE;
        out.add(huge);
        float[] q5Ties = new float[32]; // max −16: d = 1, x·id + 16.5 on integers and halves, every 5-bit quant
        for (int j = 0; j < 32; j++) q5Ties[j] = -16f + j * (j % 2 == 0 ? 1f : 0.5f);
        q5Ties[0] = -16f;
        out.add(q5Ties);
        float[] q5_1Ties = new float[32]; // min 0.25, max 31.25: d = 1, every quant on a half-way point
        for (int j = 0; j < 32; j++) q5_1Ties[j] = 0.25f + j;
        out.add(q5_1Ties);
        float[] nan = new float[32];
        nan[5] = Float.NaN;
        nan[6] = -3f;
        out.add(nan);
        return out;
    }

    private static String describe(float[] v) {
        return v.length + " values from " + v[0] + ", " + v[1] + ", ...";
    }
}
