package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
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
}
