package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.KVALUES_IQ4NL;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_IQ4_NL: blocks of 32 as {f16 d; u8 qs[16]}, x ≈ d·kvalues_iq4nl[q] (non-linear 4-bit codebook), nibbles
 * packed as Q4_0. Encoder = what llama-quantize runs without an importance matrix: quantize_iq4_nl →
 * quantize_row_iq4_nl_impl(32, 32, …, quant_weights = NULL, ntry = 7) (weights x², 15 trial scales; not
 * quantize_row_iq4_nl_ref, which uses ntry = −1). Decoder = dequantize_row_iq4_nl.
 */
final class Iq4Nl implements WeightFormat {
    public String name() { return "IQ4_NL"; }
    public int ggmlType() { return 20; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 18; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** quantize_iq4_nl with quant_weights = importance (null: none). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        int[] L = new int[32];
        float[] weight = new float[32];
        float[] scale = new float[1];
        for (int b = 0; b < n / 32; b++) {
            int y = dstOff + 18 * b;
            GgmlQuants.quantizeIq4NlImpl(32, 32, src, srcOff + 32 * b, dst, y, y + 2, -1, -1, scale, weight, L, 7, importance, importance == null ? 0 : impOff + 32 * b);
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p);
            for (int j = 0; j < 16; ++j) {
                int q = u8(src, p + 2 + j);
                dst[y + j] = d * KVALUES_IQ4NL[q & 0xf];
                dst[y + j + 16] = d * KVALUES_IQ4NL[q >> 4];
            }
        }
    }
}
