package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** LLM.int8 at run time, computed by hand from bitsandbytes' default kernels (backends/default/ops.py). */
class Int8LtWeightsTest {

    /**
     * One token x = [1, 2, 8, −0.5], threshold 6: column 2 is an outlier. Row absmax of the rest s = 2, scale 127/2 =
     * 63.5, codes a = [round(63.5) = 64 (half to even), 127, 0, round(−31.75) = −32]. Weight row q = [127, −64, 10, 1],
     * SCB = 1: int32 dot = 64·127 − 127·64 + 0 − 32 = −32, times (s · SCB) · 6.200124e-05 = −0.00396807936; plus the
     * outlier column in float: 8 · (10 · 1 · 7.874015718698502e-3) = 0.62992125749. Weights-only would give
     * x · q · SCB / 127 = 0.618110236.
     */
    @Test
    void outlierColumnStaysFloatAndTheRestIsInt8() {
        byte[] q = {127, -64, 10, 1};
        Int8RowWeights w = new Int8RowWeights(MemorySegment.ofArray(q), new float[] {1f}, 1, 4);
        float[] x = {1f, 2f, 8f, -0.5f}, out = new float[1];
        new Int8LtWeights(w, 6f).matmul(x, 1, 1, out, null);
        assertEquals(-0.00396807936 + 0.62992125749, out[0], 1e-6);
        float[] plain = new float[1];
        Kernels.matmul(w, x, 1, plain, null);
        assertEquals(0.618110236, plain[0], 1e-6);
    }

    /** Outlier columns are per sequence: a large value in one sequence does not change how the other is quantized. */
    @Test
    void outliersAreFoundPerSequence() {
        byte[] q = {127, -64, 10, 1};
        Int8RowWeights w = new Int8RowWeights(MemorySegment.ofArray(q), new float[] {1f}, 1, 4);
        float[] x = {1f, 2f, 8f, -0.5f, 1f, 2f, 0.5f, -0.5f}, out = new float[2], alone = new float[1];
        new Int8LtWeights(w, 6f).matmul(x, 2, 1, out, null);
        new Int8LtWeights(w, 6f).matmul(new float[] {1f, 2f, 0.5f, -0.5f}, 1, 1, alone, null);
        assertEquals(alone[0], out[1]);
        // second sequence: s = 2, a = [64, 127, round(31.75) = 32, -32]: dot = 64·127 − 127·64 + 320 − 32 = 288
        assertEquals(288 * 2f * 6.200124e-05f, alone[0], 1e-7);
    }

    /**
     * Many rows, several tokens in sequences of two, rows longer than the vector loop with a tail: bitsandbytes' steps
     * written out here one element at a time (float16 cast, outlier columns per sequence, codes, int32 dot, the
     * dequant constant, the float outlier terms in column order) give the same floats.
     */
    @Test
    void largerShapesAreTheStepsWrittenOut() {
        int rows = 37, cols = 301, tokens = 5, seqLen = 2;
        Random r = new Random(29);
        byte[] q = new byte[rows * cols];
        r.nextBytes(q);
        float[] scb = new float[rows], x = new float[tokens * cols], bias = new float[rows];
        for (int i = 0; i < rows; i++) {
            scb[i] = 0.01f + r.nextFloat();
            bias[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * (i % 97 == 5 ? 20 : 1));
        sameAsTheSteps(q, scb, x, bias, rows, cols, tokens, seqLen);
    }

    /**
     * Enough tokens for the float tiles ({@link Int8LtWeights#TILED_FROM}) and rows of three column chunks, with rows
     * of all +127 and all −127 codes against activations whose codes are all ±127: sums of 127² · 2100, past 2^24, where
     * one float32 sum over the whole row would round. The same floats as the steps written out.
     */
    @Test
    void tiledSumsAreExactPastTwoToThe24() {
        int rows = 9, cols = 2 * Int8LtWeights.CHUNK + 52, tokens = Int8LtWeights.TILED_FROM + 4, seqLen = 8;
        Random r = new Random(31);
        byte[] q = new byte[rows * cols];
        r.nextBytes(q);
        for (int k = 0; k < cols; k++) {
            q[k] = 127;
            q[cols + k] = -127;
            q[2 * cols + k] = (byte) (k % 2 == 0 ? 127 : -127);
        }
        float[] scb = new float[rows], x = new float[tokens * cols], bias = new float[rows];
        for (int i = 0; i < rows; i++) scb[i] = 0.5f + r.nextFloat();
        for (int t = 0; t < tokens; t++)
            for (int k = 0; k < cols; k++)
                x[t * cols + k] = switch (t % 4) {
                    case 0 -> 1.5f;
                    case 1 -> -2f;
                    case 2 -> (float) (r.nextGaussian() * (k % 211 == 3 ? 30 : 1));
                    default -> k % 2 == 0 ? 3f : -3f;
                };
        sameAsTheSteps(q, scb, x, bias, rows, cols, tokens, seqLen);
    }

    /**
     * bitsandbytes' steps written out here one element at a time (float16 cast, outlier columns per sequence, codes,
     * int32 dot, the dequant constant, the float outlier terms in column order) give the floats matmul gives.
     */
    private static void sameAsTheSteps(byte[] q, float[] scb, float[] x, float[] bias, int rows, int cols, int tokens, int seqLen) {
        float[] got = new float[tokens * rows];
        new Int8LtWeights(new Int8RowWeights(MemorySegment.ofArray(q), scb, rows, cols), 6f).matmul(x, tokens, seqLen, got, bias);
        for (int t = 0; t < tokens; t++) {
            int s0 = t / seqLen * seqLen;
            boolean[] outlier = new boolean[cols];
            for (int u = s0; u < Math.min(tokens, s0 + seqLen); u++)
                for (int k = 0; k < cols; k++) if (Math.abs(Float.float16ToFloat(Float.floatToFloat16(x[u * cols + k]))) >= 6f) outlier[k] = true;
            float m = 0;
            for (int k = 0; k < cols; k++) {
                float h = Float.float16ToFloat(Float.floatToFloat16(x[t * cols + k]));
                if (Math.abs(h) < 6f) m = Math.max(m, Math.abs(h));
            }
            for (int row = 0; row < rows; row++) {
                int dot = 0;
                for (int k = 0; k < cols; k++) {
                    float h = Float.float16ToFloat(Float.floatToFloat16(x[t * cols + k]));
                    int a = outlier[k] ? 0 : (int) Math.rint(h * ((1f / m) * 127f));
                    dot += a * q[row * cols + k];
                }
                float want = (float) dot * (m * scb[row]) * 6.200124e-05f + bias[row];
                for (int k = 0; k < cols; k++)
                    if (outlier[k]) want += x[t * cols + k] * (q[row * cols + k] * scb[row] * 7.874015718698502e-3f);
                assertEquals(want, got[t * rows + row], "token " + t + ", row " + row);
            }
        }
    }
}
