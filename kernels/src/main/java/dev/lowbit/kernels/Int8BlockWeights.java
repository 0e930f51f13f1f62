package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Q8_0 math: blocks of 32 int8 codes over the flattened matrix, one f16 scale each. */
public record Int8BlockWeights(MemorySegment q, MemorySegment scales, int rows, int cols) implements Weights {
    static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public void decodeRows(int row, int n, float[] dst) {
        long first = (long) row * cols;
        for (int i = 0, m = n * cols; i < m; i++) {
            long e = first + i;
            dst[i] = q.get(ValueLayout.JAVA_BYTE, e) * Float.float16ToFloat(scales.get(F16, 2 * (e / 32)));
        }
    }

    public String format() {
        return "int8 blocks";
    }
}
