package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_0: blocks of 32 as {f16 d; u8 qs[16]}, d = max/−8 (max = the signed value of largest magnitude),
 * q = min(15, (int8)(x/d + 8.5)); byte j holds element j (low nibble) and j + 16. Encoder = quantize_row_q4_0_ref,
 * decoder = dequantize_row_q4_0.
 */
final class Q4_0 implements WeightFormat {
    public String name() { return "Q4_0"; }
    public int ggmlType() { return 2; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 18; }

    public boolean usesImportance() { return true; }

    /** With an importance, quantize_row_q4_0_impl over n = one whole row (its mean x² enters the weights). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        if (importance == null) quantize(src, srcOff, n, dst, dstOff);
        else GgmlImatrix.legacyRow(src, srcOff, n, dst, dstOff, importance, impOff, false, false);
    }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 18 * b;
            float max = GgmlQuants.signedAbsMax(src, x, 32, GgmlQuants.absMax(src, x, 32));
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            for (int j = 0; j < 16; ++j) {
                float x0 = src[x + j] * id;
                float x1 = src[x + 16 + j] * id;
                int xi0 = Math.min(15, (byte) (int) (x0 + 8.5f));
                int xi1 = Math.min(15, (byte) (int) (x1 + 8.5f));
                dst[y + 2 + j] = (byte) (xi0 | (xi1 << 4));
            }
        }
    }

    /** In vector lanes where {@link BlockDots} can ({@link BlockDots#q4_0Rows}, the same floats), else {@link #dequantizeScalar}. */
    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        if (BlockDots.USABLE) BlockDots.q4_0Rows(src, off, n, dst, dstOff);
        else dequantizeScalar(src, off, n, dst, dstOff);
    }

    static void dequantizeScalar(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p);
            for (int j = 0; j < 16; ++j) {
                int q = u8(src, p + 2 + j);
                dst[y + j] = ((q & 0x0F) - 8) * d;
                dst[y + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }
}
