package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.KVALUES_IQ4NL;
import static dev.lowbit.quantizers.format.GgmlQuants.LE16;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_IQ4_XS: super-blocks of 256 as {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: 8 blocks of 32 with a
 * 6-bit scale ls (low nibble in scales_l, high 2 bits in scales_h), x ≈ d·(ls − 32)·kvalues_iq4nl[q]. Encoder =
 * quantize_iq4_xs → quantize_row_iq4_nl_impl(256, 32, …, quant_weights = NULL, ntry = 7); decoder =
 * dequantize_row_iq4_xs.
 */
final class Iq4Xs implements WeightFormat {
    public String name() { return "IQ4_XS"; }
    public int ggmlType() { return 23; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 136; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** quantize_iq4_xs with quant_weights = importance (null: none). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        int[] L = new int[256];
        float[] weight = new float[32];
        float[] scales = new float[8];
        for (int b = 0; b < n / 256; b++) {
            int y = dstOff + 136 * b;
            GgmlQuants.quantizeIq4NlImpl(256, 32, src, srcOff + 256 * b, dst, y, y + 8, y + 2, y + 4, scales, weight, L, 7, importance, importance == null ? 0 : impOff + 256 * b);
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 136L * b;
            int y = dstOff + 256 * b;
            float d = f16(src, p);
            int scalesH = src.get(LE16, p + 2) & 0xffff;
            long qs = p + 8;
            for (int ib = 0; ib < 8; ++ib) {
                int ls = ((u8(src, p + 4 + ib / 2) >> 4 * (ib % 2)) & 0xf) | (((scalesH >> 2 * ib) & 3) << 4);
                float dl = d * (ls - 32);
                for (int j = 0; j < 16; ++j) {
                    int q = u8(src, qs + j);
                    dst[y + j] = dl * KVALUES_IQ4NL[q & 0xf];
                    dst[y + j + 16] = dl * KVALUES_IQ4NL[q >> 4];
                }
                y += 32;
                qs += 16;
            }
        }
    }
}
