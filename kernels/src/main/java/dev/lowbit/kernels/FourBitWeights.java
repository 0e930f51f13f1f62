package dev.lowbit.kernels;

import dev.lowbit.quantizers.Codebook4;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NF4/FP4 as bitsandbytes packs them: two codes a byte over the flattened matrix, first element in the high nibble,
 * one absmax per block (already expanded from its double-quantized form: those are scales, not weights).
 */
public record FourBitWeights(MemorySegment packed, float[] absmax, Codebook4 codebook, int block, int rows, int cols) implements Weights {
    /**
     * Whole blocks of even size (every row of a model: cols a multiple of the block) go a byte, two values, at a time
     * with their block's absmax; anything else element by element.
     */
    public void decodeRows(int row, int n, float[] dst) {
        long first = (long) row * cols;
        if (block % 2 == 0 && cols % block == 0) {
            for (int b = 0; b < n * cols / block; b++) {
                float s = absmax[(int) (first / block) + b];
                long at = (first >>> 1) + (long) b * (block / 2);
                for (int i = 0, o = b * block; i < block; i += 2, o += 2) {
                    int q = packed.get(ValueLayout.JAVA_BYTE, at + i / 2) & 0xff;
                    dst[o] = codebook.value(q >>> 4) * s;
                    dst[o + 1] = codebook.value(q & 0xf) * s;
                }
            }
            return;
        }
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
