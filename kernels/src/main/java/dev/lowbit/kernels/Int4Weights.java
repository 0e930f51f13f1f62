package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Group-wise 4-bit: first element in the low nibble, f16 scale per group, zero point 8 (symmetric) or stored (asymmetric). */
public record Int4Weights(MemorySegment packed, MemorySegment scales, MemorySegment zeros, int group, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        long first = (long) row * cols;
        for (int i = 0, m = n * cols; i < m; i++) {
            long e = first + i, g = e / group;
            int b = packed.get(ValueLayout.JAVA_BYTE, e >>> 1) & 0xff;
            int code = (e & 1) == 0 ? b & 0xf : b >>> 4;
            int zero = zeros == null ? 8 : zeros.get(ValueLayout.JAVA_BYTE, g) & 0xff;
            dst[i] = (code - zero) * Float.float16ToFloat(scales.get(Int8BlockWeights.F16, 2 * g));
        }
    }

    public String format() {
        return zeros == null ? "int4" : "int4 asym";
    }
}
