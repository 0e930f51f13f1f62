package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** LLM.int8 rows: int8 codes with one absmax per row, w = q · absmax / 127 (in that order, as bitsandbytes). */
public record Int8RowWeights(MemorySegment q, float[] rowAbsmax, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        for (int r = 0; r < n; r++) {
            float s = rowAbsmax[row + r];
            long base = (long) (row + r) * cols;
            for (int c = 0; c < cols; c++) dst[r * cols + c] = q.get(ValueLayout.JAVA_BYTE, base + c) * s / 127f;
        }
    }

    public String format() {
        return "int8 rows";
    }
}
