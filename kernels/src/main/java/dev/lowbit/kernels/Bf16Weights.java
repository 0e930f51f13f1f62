package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/** bfloat16 weights [rows × cols]: a bf16 is the upper half of a float32. */
public record Bf16Weights(MemorySegment data, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        Kernels.ops().bf16ToFloat(data, (long) row * cols * 2, dst, n * cols);
    }

    public String format() {
        return "bf16";
    }
}
