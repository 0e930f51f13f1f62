package dev.lowbit.kernels;

import dev.lowbit.quantizers.format.WeightFormat;
import java.lang.foreign.MemorySegment;

/** A [rows × cols] matrix of any registered block format, rows stored one after another: decoded by the format. */
public record BlockWeights(MemorySegment data, WeightFormat type, int rows, int cols) implements Weights {
    public BlockWeights {
        checkSize(data, type, rows, cols);
    }

    private static MemorySegment checkSize(MemorySegment data, WeightFormat type, int rows, int cols) {
        if (cols % type.blockSize() != 0)
            throw new IllegalArgumentException(type.name() + " rows of " + cols + " are not a multiple of its block " + type.blockSize());
        if (data.byteSize() != rows * type.rowBytes(cols))
            throw new IllegalArgumentException(type.name() + " [" + rows + " x " + cols + "] needs " + rows * type.rowBytes(cols) + " bytes, not " + data.byteSize());
        return data;
    }

    /**
     * The weights of a stored [rows × cols] matrix of any format: F32, F16 and BF16 rows decode in vector lanes
     * ({@link F32Weights}, {@link F16Weights}, {@link Bf16Weights}: the same floats as the format's scalar
     * dequantize, which made prompt processing of a BF16 GGUF spend 5 % of its time decoding); block formats as blocks.
     */
    public static Weights of(MemorySegment data, WeightFormat type, int rows, int cols) {
        return switch (type.name()) {
            case "F32" -> new F32Weights(checkSize(data, type, rows, cols), rows, cols);
            case "F16" -> new F16Weights(checkSize(data, type, rows, cols), rows, cols);
            case "BF16" -> new Bf16Weights(checkSize(data, type, rows, cols), rows, cols);
            default -> new BlockWeights(data, type, rows, cols);
        };
    }

    public void decodeRows(int row, int n, float[] dst) {
        long rowBytes = type.rowBytes(cols);
        for (int r = 0; r < n; r++) type.dequantize(data, (row + r) * rowBytes, cols, dst, r * cols);
    }

    public String format() {
        return type.name();
    }
}
