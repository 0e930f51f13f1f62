package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/** float32 weights stored [cols × rows] (GPT-2's Conv1D, y = x·W): rows are gathered from columns. */
public record TransposedF32Weights(MemorySegment data, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        for (int c = 0; c < cols; c++) {
            long base = ((long) c * rows + row) * 4;
            for (int r = 0; r < n; r++) dst[r * cols + c] = data.get(F32Weights.LE, base + 4L * r);
        }
    }

    public String format() {
        return "f32 [in,out]";
    }
}
