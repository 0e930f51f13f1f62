package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.LE32;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_0: blocks of 32 as {f16 d; u8 qh[4]; u8 qs[16]}, d = max/−16, q = min(31, (int8)(x/d + 16.5)); low
 * nibbles as Q4_0, bit 4 of element j in bit j of the little-endian qh. Encoder = quantize_row_q5_0_ref, decoder =
 * dequantize_row_q5_0.
 */
final class Q5_0 implements WeightFormat {
    public String name() { return "Q5_0"; }
    public int ggmlType() { return 6; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 22; }

    public boolean usesImportance() { return true; }

    /** With an importance, quantize_row_q5_0_impl over n = one whole row (its mean x² enters the weights). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        if (importance == null) quantize(src, srcOff, n, dst, dstOff);
        else GgmlImatrix.legacyRow(src, srcOff, n, dst, dstOff, importance, impOff, true, false);
    }

    /** In vector lanes when {@link LaneEncoders} says so ({@link #quantizeLanes}, the same bytes), else {@link #quantizeScalar}. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (LaneEncoders.on()) quantizeLanes(src, srcOff, n, dst, dstOff);
        else quantizeScalar(src, srcOff, n, dst, dstOff);
    }

    /**
     * quantize_row_q5_0_ref in vector lanes, step for step: the signed max as Q4_0's, x·id + 16.5 as two roundings,
     * truncation to int, the narrowing to a byte, min 31, low nibbles and bit 4 ({@link BlockDots#q5Block}).
     */
    static void quantizeLanes(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 22 * b;
            float max = BlockDots.signedAbsMax32(src, x, BlockDots.absMax32(src, x));
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            int qh = BlockDots.q5Block(src, x, 0f, id, 16.5f, true, dst, y + 6); // x − 0 is x, NaN and −0 included
            for (int k = 0; k < 4; k++) dst[y + 2 + k] = (byte) (qh >>> (8 * k));
        }
    }

    static void quantizeScalar(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 22 * b;
            float max = GgmlQuants.signedAbsMax(src, x, 32, GgmlQuants.absMax(src, x, 32));
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                float x0 = src[x + j] * id;
                float x1 = src[x + 16 + j] * id;
                int xi0 = Math.min(31, (byte) (int) (x0 + 16.5f));
                int xi1 = Math.min(31, (byte) (int) (x1 + 16.5f));
                dst[y + 6 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
            }
            for (int k = 0; k < 4; k++) dst[y + 2 + k] = (byte) (qh >>> (8 * k));
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 22L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p);
            int qh = src.get(LE32, p + 2);
            for (int j = 0; j < 16; ++j) {
                int q = u8(src, p + 6 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                dst[y + j] = (((q & 0x0F) | xh0) - 16) * d;
                dst[y + j + 16] = (((q >> 4) | xh1) - 16) * d;
            }
        }
    }
}
