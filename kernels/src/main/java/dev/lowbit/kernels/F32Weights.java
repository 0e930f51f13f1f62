package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** float32 weights [rows × cols], row-major, little-endian. */
public record F32Weights(MemorySegment data, int rows, int cols) implements Weights {
    static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public void decodeRows(int row, int n, float[] dst) {
        MemorySegment.copy(data, LE, (long) row * cols * 4, dst, 0, n * cols);
    }

    public String format() {
        return "f32";
    }
}
