package dev.lowbit.kernels;

import dev.lowbit.quantizers.Codebook4;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NF4/FP4 as bitsandbytes packs them: two codes a byte over the flattened matrix, first element in the high nibble,
 * one absmax per block (already expanded from its double-quantized form: those are scales, not weights).
 */
public record FourBitWeights(MemorySegment packed, float[] absmax, Codebook4 codebook, int block, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        long first = (long) row * cols;
        for (int i = 0, m = n * cols; i < m; i++) {
            long e = first + i;
            int b = packed.get(ValueLayout.JAVA_BYTE, e >>> 1) & 0xff;
            dst[i] = codebook.value((e & 1) == 0 ? b >>> 4 : b & 0xf) * absmax[(int) (e / block)];
        }
    }

    public String format() {
        return codebook.bnbName();
    }
}
