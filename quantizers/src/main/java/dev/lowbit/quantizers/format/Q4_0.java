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

    /** In vector lanes when {@link LaneEncoders} says so ({@link #quantizeLanes}, the same bytes), else {@link #quantizeScalar}. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (LaneEncoders.on()) quantizeLanes(src, srcOff, n, dst, dstOff);
        else quantizeScalar(src, srcOff, n, dst, dstOff);
    }

    /**
     * quantize_row_q4_0_ref in vector lanes, step for step: the magnitude bits' max, the first value of that magnitude,
     * x·id + 8.5 as two roundings, truncation to int, the narrowing to a byte, min 15, and the nibbles or'ed in byte
     * lanes (the low 8 bits of the int arithmetic). 2.9 ns per value was most of a Q4_0 export.
     */
    static void quantizeLanes(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 18 * b;
            float max = BlockDots.signedAbsMax32(src, x, BlockDots.absMax32(src, x));
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            for (int c = 0; c < 16; c += BlockDots.L) { // min(15, (int8_t)(int)(x·id + 8.5)) of elements j and j + 16
                IntVector q0 = (IntVector) FloatVector.fromArray(BlockDots.F, src, x + c).mul(id).add(8.5f).convertShape(VectorOperators.F2I, BlockDots.I, 0);
                IntVector q1 = (IntVector) FloatVector.fromArray(BlockDots.F, src, x + 16 + c).mul(id).add(8.5f).convertShape(VectorOperators.F2I, BlockDots.I, 0);
                ByteVector lo = ((ByteVector) q0.convertShape(VectorOperators.I2B, BlockDots.B, 0)).min((byte) 15);
                ByteVector hi = ((ByteVector) q1.convertShape(VectorOperators.I2B, BlockDots.B, 0)).min((byte) 15);
                lo.or(hi.lanewise(VectorOperators.LSHL, 4)).intoArray(dst, y + 2 + c);
            }
        }
    }

    static void quantizeScalar(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
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
