package dev.lowbit.kernels;

import dev.lowbit.quantizers.format.WeightFormat;
import java.lang.foreign.MemorySegment;

/** A [rows × cols] matrix of any registered block format, rows stored one after another: decoded by the format. */
public record BlockWeights(MemorySegment data, WeightFormat type, int rows, int cols) implements Weights {
    public BlockWeights {
        if (cols % type.blockSize() != 0)
            throw new IllegalArgumentException(type.name() + " rows of " + cols + " are not a multiple of its block " + type.blockSize());
        if (data.byteSize() != rows * type.rowBytes(cols))
            throw new IllegalArgumentException(type.name() + " [" + rows + " x " + cols + "] needs " + rows * type.rowBytes(cols) + " bytes, not " + data.byteSize());
    }

    public void decodeRows(int row, int n, float[] dst) {
        long rowBytes = type.rowBytes(cols);
        for (int r = 0; r < n; r++) type.dequantize(data, (row + r) * rowBytes, cols, dst, r * cols);
    }

    public String format() {
        return type.name();
    }
}
