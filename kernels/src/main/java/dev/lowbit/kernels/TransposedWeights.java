package dev.lowbit.kernels;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.FloatBits;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;

/** Weights stored [cols × rows] (GPT-2's Conv1D, y = x·W) in F32, F16 or BF16: a tile of rows is gathered from columns. */
public record TransposedWeights(MemorySegment data, DType dtype, int rows, int cols) implements Weights {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public TransposedWeights {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) throw new IllegalArgumentException("transposed weights must be F32, F16 or BF16, not " + dtype);
    }

    public void decodeRows(int row, int n, float[] dst) {
        for (int c = 0; c < cols; c++) {
            long base = (long) c * rows + row;
            for (int r = 0; r < n; r++) dst[r * cols + c] = get(base + r);
        }
    }

    private float get(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32Weights.LE, 4 * i);
            case F16 -> FloatBits.f16ToFloat(data.get(SHORT, 2 * i));
            default -> FloatBits.bf16ToFloat(data.get(SHORT, 2 * i));
        };
    }

    public String format() {
        return dtype.name().toLowerCase(Locale.ROOT) + " [in,out]";
    }
}
