package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.LE32;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_1: blocks of 32 as {f16 d; f16 m; u8 qh[4]; u8 qs[16]}, m = min, d = (max − min)/31,
 * q = (uint8)((x − m)/d + 0.5); bit layout as Q5_0. Encoder = quantize_row_q5_1_ref, decoder = dequantize_row_q5_1.
 */
final class Q5_1 implements WeightFormat {
    public String name() { return "Q5_1"; }
    public int ggmlType() { return 7; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 24; }

    public boolean usesImportance() { return true; }

    /** With an importance, quantize_row_q5_1_impl over n = one whole row (its mean x² enters the weights). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        if (importance == null) quantize(src, srcOff, n, dst, dstOff);
        else GgmlImatrix.legacyRow(src, srcOff, n, dst, dstOff, importance, impOff, true, true);
    }

    /** In vector lanes when {@link LaneEncoders} says so ({@link #quantizeLanes}, the same bytes), else {@link #quantizeScalar}. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (LaneEncoders.on()) quantizeLanes(src, srcOff, n, dst, dstOff);
        else quantizeScalar(src, srcOff, n, dst, dstOff);
    }

    /**
     * quantize_row_q5_1_ref in vector lanes, step for step: min and max as Q4_1's lanes (a block they may not find as the
     * reference does is encoded by the scalar loop), (x − min)·id + 0.5 as two roundings, truncation to int, the low
     * 8 bits, low nibbles and bit 4 ({@link BlockDots#q5Block}).
     */
    static void quantizeLanes(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 24 * b;
            float min = BlockDots.extreme32(src, x, true), max = BlockDots.extreme32(src, x, false);
            if (Float.isNaN(min) || Float.isNaN(max)) {
                quantizeScalar(src, x, 32, dst, y);
                continue;
            }
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            putF16(dst, y + 2, min);
            int qh = BlockDots.q5Block(src, x, min, id, 0.5f, false, dst, y + 8);
            for (int k = 0; k < 4; k++) dst[y + 4 + k] = (byte) (qh >>> (8 * k));
        }
    }

    static void quantizeScalar(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 24 * b;
            float min = GgmlQuants.min(src, x, 32), max = GgmlQuants.max(src, x, 32);
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            putF16(dst, y + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                float x0 = (src[x + j] - min) * id;
                float x1 = (src[x + 16 + j] - min) * id;
                int xi0 = ((int) (x0 + 0.5f)) & 0xff;
                int xi1 = ((int) (x1 + 0.5f)) & 0xff;
                dst[y + 8 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
            }
            for (int k = 0; k < 4; k++) dst[y + 4 + k] = (byte) (qh >>> (8 * k));
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 24L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p), m = f16(src, p + 2);
            int qh = src.get(LE32, p + 4);
            for (int j = 0; j < 16; ++j) {
                int q = u8(src, p + 8 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                dst[y + j] = ((q & 0x0F) | xh0) * d + m;
                dst[y + j + 16] = ((q >> 4) | xh1) * d + m;
            }
        }
    }
}
