package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** IEEE half weights [rows × cols]; Float.float16ToFloat compiles to the CPU's half-to-float instruction. */
public record F16Weights(MemorySegment data, int rows, int cols) implements Weights {
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public void decodeRows(int row, int n, float[] dst) {
        long base = (long) row * cols * 2;
        for (int i = 0, m = n * cols; i < m; i++) dst[i] = Float.float16ToFloat(data.get(LE, base + 2L * i));
    }

    public String format() {
        return "f16";
    }
}
