package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_1: blocks of 32 as {f16 d; f16 m; u8 qs[16]}, m = min, d = (max − min)/15,
 * q = min(15, (int8)((x − m)/d + 0.5)); x ≈ q·d + m. Encoder = quantize_row_q4_1_ref, decoder = dequantize_row_q4_1.
 */
final class Q4_1 implements WeightFormat {
    public String name() { return "Q4_1"; }
    public int ggmlType() { return 3; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 20; }

    public boolean usesImportance() { return true; }

    /** With an importance, quantize_row_q4_1_impl over n = one whole row (its mean x² enters the weights). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        if (importance == null) quantize(src, srcOff, n, dst, dstOff);
        else GgmlImatrix.legacyRow(src, srcOff, n, dst, dstOff, importance, impOff, false, true);
    }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 20 * b;
            float min = GgmlQuants.min(src, x, 32), max = GgmlQuants.max(src, x, 32);
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            putF16(dst, y + 2, min);
            for (int j = 0; j < 16; ++j) {
                float x0 = (src[x + j] - min) * id;
                float x1 = (src[x + 16 + j] - min) * id;
                int xi0 = Math.min(15, (byte) (int) (x0 + 0.5f));
                int xi1 = Math.min(15, (byte) (int) (x1 + 0.5f));
                dst[y + 4 + j] = (byte) (xi0 | (xi1 << 4));
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 20L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p), m = f16(src, p + 2);
            for (int j = 0; j < 16; ++j) {
                int q = u8(src, p + 4 + j);
                dst[y + j] = (q & 0x0F) * d + m;
                dst[y + j + 16] = (q >> 4) * d + m;
            }
        }
    }
}
