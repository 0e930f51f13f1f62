package dev.lowbit.quantizers.gptq;

import dev.lowbit.quantizers.format.WeightFormat;

/**
 * Encodes one run of whole blocks of a weight row with a format's own quantizer. {@code col} is the column of
 * src[srcOff] in the weight, so an importance-weighted encoder can take the matching slice of its importance.
 */
@FunctionalInterface
public interface BlockEncoder {
    void encode(float[] src, int srcOff, int n, byte[] dst, int dstOff, int col);

    /** The format's plain (unweighted) encoder. */
    static BlockEncoder of(WeightFormat f) {
        return (src, srcOff, n, dst, dstOff, col) -> f.quantize(src, srcOff, n, dst, dstOff);
    }
}
