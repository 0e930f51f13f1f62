package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_K: super-blocks of 256 as {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}: 8 groups of 32 with 6-bit
 * scale and min (get_scale_min_k4 packing), x ≈ d·sc·q − dmin·m, q ∈ [0, 15]; bytes 32k..32k+31 hold group 2k in the
 * low and 2k+1 in the high nibbles. Encoder = quantize_row_q4_K_ref, decoder = dequantize_row_q4_K.
 */
final class Q4_K implements WeightFormat {
    public String name() { return "Q4_K"; }
    public int ggmlType() { return 12; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 144; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** With an importance: quantize_row_q4_K_impl (quant_weights = importance); without: the reference encoder. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        int[] all = new int[512], L = new int[256];
        // one of the two, as the importance is given or not (each holds a few kB and the lanes' scratch)
        var scratch = importance == null ? new GgmlQuants.K4Scratch() : null;
        var weighted = importance != null ? new GgmlImatrix.K4() : null;
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 144 * b;
            if (b % 2 == 0) { // two super-blocks' searches at a time, the second's quants kept for the next step
                int count = Math.min(2, n / 256 - b);
                if (importance != null) GgmlImatrix.quantizeK4(src, x, importance, impOff + 256 * b, count, 144, 15, dst, y, all, weighted);
                else GgmlQuants.quantizeK4(src, x, count, 144, 15, -1.f, 0.1f, 20, dst, y, all, scratch);
            }
            System.arraycopy(all, 256 * (b % 2), L, 0, 256);
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) dst[y + 16 + j / 2 + l] = (byte) (L[j + l] | (L[j + l + 32] << 4));
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 144L * b;
            int y = dstOff + 256 * b;
            float d = f16(src, p), min = f16(src, p + 2);
            long q = p + 16;
            for (int is = 0; is < 8; is += 2) {
                float d1 = d * GgmlQuants.scaleK4(is, src, p + 4), m1 = min * GgmlQuants.minK4(is, src, p + 4);
                float d2 = d * GgmlQuants.scaleK4(is + 1, src, p + 4), m2 = min * GgmlQuants.minK4(is + 1, src, p + 4);
                for (int l = 0; l < 32; ++l) dst[y++] = d1 * (u8(src, q + l) & 0xF) - m1;
                for (int l = 0; l < 32; ++l) dst[y++] = d2 * (u8(src, q + l) >> 4) - m2;
                q += 32;
            }
        }
    }
}
