package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/** IEEE half weights [rows × cols], decoded by {@link VectorOps#f16ToFloat}. */
public record F16Weights(MemorySegment data, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        Kernels.ops().f16ToFloat(data, (long) row * cols * 2, dst, n * cols);
    }

    public String format() {
        return "f16";
    }
}
