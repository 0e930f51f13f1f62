package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

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

    /** In vector lanes when {@link LaneEncoders} says so ({@link #quantizeLanes}, the same bytes), else {@link #quantizeScalar}. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (LaneEncoders.on()) quantizeLanes(src, srcOff, n, dst, dstOff);
        else quantizeScalar(src, srcOff, n, dst, dstOff);
    }

    /**
     * quantize_row_q4_1_ref in vector lanes, step for step: (x − min)·id + 0.5 as two roundings, truncation to int, the
     * narrowing to a byte, min 15, and the nibbles or'ed in byte lanes. A block whose min or max the lanes may not find
     * as the reference does ({@link BlockDots#extreme32}) is encoded by the scalar loop.
     */
    static void quantizeLanes(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 20 * b;
            float min = BlockDots.extreme32(src, x, true), max = BlockDots.extreme32(src, x, false);
            if (Float.isNaN(min) || Float.isNaN(max)) {
                quantizeScalar(src, x, 32, dst, y);
                continue;
            }
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            putF16(dst, y + 2, min);
            for (int c = 0; c < 16; c += BlockDots.L) { // min(15, (int8_t)(int)((x − min)·id + 0.5)) of elements j and j + 16
                IntVector q0 = (IntVector) FloatVector.fromArray(BlockDots.F, src, x + c).sub(min).mul(id).add(0.5f).convertShape(VectorOperators.F2I, BlockDots.I, 0);
                IntVector q1 = (IntVector) FloatVector.fromArray(BlockDots.F, src, x + 16 + c).sub(min).mul(id).add(0.5f).convertShape(VectorOperators.F2I, BlockDots.I, 0);
                ByteVector l = ((ByteVector) q0.convertShape(VectorOperators.I2B, BlockDots.B, 0)).min((byte) 15);
                ByteVector h = ((ByteVector) q1.convertShape(VectorOperators.I2B, BlockDots.B, 0)).min((byte) 15);
                l.or(h.lanewise(VectorOperators.LSHL, 4)).intoArray(dst, y + 4 + c);
            }
        }
    }

    static void quantizeScalar(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
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
