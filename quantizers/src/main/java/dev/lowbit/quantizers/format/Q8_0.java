package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.absMax;
import static dev.lowbit.quantizers.format.GgmlQuants.roundfInt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * GGML_TYPE_Q8_0: blocks of 32 as {f16 d; int8 qs[32]}, d = amax/127, q = roundf(x/d). Encoder =
 * quantize_row_q8_0_ref, decoder = dequantize_row_q8_0 (ggml-quants.c).
 */
final class Q8_0 implements WeightFormat {
    public String name() { return "Q8_0"; }
    public int ggmlType() { return 8; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 34; }

    /** In vector lanes when {@link LaneEncoders} says so ({@link #quantizeLanes}, the same bytes), else {@link #quantizeScalar}. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (LaneEncoders.on()) quantizeLanes(src, srcOff, n, dst, dstOff);
        else quantizeScalar(src, srcOff, n, dst, dstOff);
    }

    /**
     * quantize_row_q8_0_ref in vector lanes: the magnitude bits' max is absMax's, x·id is the same product, and roundf
     * is built from exact steps (the truncation t, the remainder x − t, exact below 2²³, one step away from zero when
     * it is at least a half), which is what roundfInt's double sum computes. 1.9 ns per value was most of a Q8_0 export.
     */
    static void quantizeLanes(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 34 * b;
            float amax = BlockDots.absMax32(src, x);
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            for (int c = 0; c < 32; c += BlockDots.L) {
                FloatVector v = FloatVector.fromArray(BlockDots.F, src, x + c).mul(id);
                IntVector t = (IntVector) v.convertShape(VectorOperators.F2I, BlockDots.I, 0);
                FloatVector rest = v.sub((FloatVector) t.convertShape(VectorOperators.I2F, BlockDots.F, 0));
                t = t.add(1, rest.compare(VectorOperators.GE, 0.5f).cast(BlockDots.I)).sub(1, rest.compare(VectorOperators.LE, -0.5f).cast(BlockDots.I));
                ((ByteVector) t.convertShape(VectorOperators.I2B, BlockDots.B, 0)).intoArray(dst, y + 2 + c);
            }
        }
    }

    static void quantizeScalar(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 34 * b;
            float amax = absMax(src, x, 32);
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            for (int j = 0; j < 32; ++j) dst[y + 2 + j] = (byte) roundfInt(src[x + j] * id);
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p);
            for (int j = 0; j < 32; ++j) dst[y + j] = src.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
        }
    }
}
