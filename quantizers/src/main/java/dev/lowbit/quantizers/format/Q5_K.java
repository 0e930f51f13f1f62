package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_K: super-blocks of 256 as {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: as Q4_K with
 * q ∈ [0, 31], bit 4 of element 64k + j in bit 2k of qh[j] and of element 64k + 32 + j in bit 2k + 1. Encoder =
 * quantize_row_q5_K_ref, decoder = dequantize_row_q5_K.
 */
final class Q5_K implements WeightFormat {
    public String name() { return "Q5_K"; }
    public int ggmlType() { return 13; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 176; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** With an importance: quantize_row_q5_K_impl (quant_weights = importance); without: the reference encoder. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        int[] all = new int[512], L = new int[256];
        // one of the two, as the importance is given or not (each holds a few kB and the lanes' scratch)
        var scratch = importance == null ? new GgmlQuants.K4Scratch() : null;
        var weighted = importance != null ? new GgmlImatrix.K4() : null;
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 176 * b;
            if (b % 2 == 0) { // two super-blocks' searches at a time, the second's quants kept for the next step
                int count = Math.min(2, n / 256 - b);
                if (importance != null) GgmlImatrix.quantizeK4(src, x, importance, impOff + 256 * b, count, 176, 31, dst, y, all, weighted);
                else GgmlQuants.quantizeK4(src, x, count, 176, 31, -0.5f, 0.1f, 15, dst, y, all, scratch);
            }
            System.arraycopy(all, 256 * (b % 2), L, 0, 256);
            int qh = y + 16, ql = y + 48;
            for (int k = 0; k < 32; k++) dst[qh + k] = 0;
            // The C loop's `if (l > 15) { l -= 16; qh[j] |= m; }` as bit 4 of l (every L is in [0, 31]), without the
            // branch, which goes either way at random on weights.
            for (int nn = 0, s = 0; nn < 256; nn += 64, s += 2) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[nn + j], l2 = L[nn + j + 32];
                    dst[qh + j] |= (byte) (((l1 >> 4) | ((l2 >> 4) << 1)) << s);
                    dst[ql + j] = (byte) ((l1 & 15) | ((l2 & 15) << 4));
                }
                ql += 32;
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 176L * b;
            int y = dstOff + 256 * b;
            float d = f16(src, p), min = f16(src, p + 2);
            long qh = p + 16, ql = p + 48;
            int u1 = 1, u2 = 2;
            for (int is = 0; is < 8; is += 2) {
                float d1 = d * GgmlQuants.scaleK4(is, src, p + 4), m1 = min * GgmlQuants.minK4(is, src, p + 4);
                float d2 = d * GgmlQuants.scaleK4(is + 1, src, p + 4), m2 = min * GgmlQuants.minK4(is + 1, src, p + 4);
                for (int l = 0; l < 32; ++l) dst[y++] = d1 * ((u8(src, ql + l) & 0xF) + ((u8(src, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; ++l) dst[y++] = d2 * ((u8(src, ql + l) >> 4) + ((u8(src, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                ql += 32;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }
}
