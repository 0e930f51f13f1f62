package dev.lowbit.quantizers;

import dev.lowbit.quantizers.format.WeightFormat;

/**
 * Any registered weight format over a 2-D weight, row by row (a row is a whole number of blocks): the packed bytes of
 * the whole weight, and the error of what is stored (measured by decoding it again, or as the format encodes).
 */
public record BlockQuantizer(WeightFormat format, long[] shape, byte[] data, QuantError error) {

    public static BlockQuantizer quantize(FloatSource src, WeightFormat f, String name) {
        return quantize(src, f, name, null);
    }

    /** As quantize(src, f, name), each row encoded with the importance of its columns (null: none). */
    public static BlockQuantizer quantize(FloatSource src, WeightFormat f, String name, float[] importance) {
        int rows = Math.toIntExact(src.shape()[0]), cols = Math.toIntExact(src.numel() / Math.max(1, rows));
        if (cols % f.blockSize() != 0)
            throw new IllegalArgumentException("tensor '" + name + "': rows of " + cols + " are not a multiple of " + f.name() + "'s block " + f.blockSize());
        if (importance != null && importance.length != cols)
            throw new IllegalArgumentException("tensor '" + name + "': the importance matrix has " + importance.length + " columns, the weight " + cols);
        int rowBytes = Math.toIntExact(f.rowBytes(cols));
        byte[] data = new byte[Math.multiplyExact(rows, rowBytes)];
        QuantError.Acc err = new QuantError.Acc();
        Blocks.parallel(rows, 16, (lo, hi) -> {
            float[] v = new float[cols], back = new float[cols];
            QuantError.Acc local = new QuantError.Acc();
            for (int r = lo; r < hi; r++) {
                src.read((long) r * cols, v);
                Blocks.absmax(v, name, (long) r * cols);
                try {
                    f.quantize(v, 0, cols, data, r * rowBytes, importance, 0, back, local);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("tensor '" + name + "', row " + r + ": " + e.getMessage());
                }
            }
            err.merge(local);
        });
        return new BlockQuantizer(f, src.shape(), data, err.result());
    }
}
