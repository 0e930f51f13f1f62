package dev.lowbit.formats;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stored float bits read straight from a (mapped) segment with the Vector API, little-endian: BF16 decoded to float32
 * (a lane's 16 bits become the upper half of a float's: widen, shift left 16, reinterpret), and the largest magnitude
 * of a run of F32, F16 or BF16 values taken from the bits without decoding (sign cleared, the bits order like the
 * magnitudes; NaN and ±Inf have the largest). Scalar tails use {@link FloatBits}.
 */
final class FloatLanes {
    private FloatLanes() {}

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> HALF_I = VectorSpecies.of(short.class, VectorShape.forBitSize(I.vectorBitSize() / 2));
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;

    /** dst[off + i] = the BF16 value at byte at + 2i of data, for i < n. */
    static void bf16ToFloats(MemorySegment data, long at, float[] dst, int off, int n) {
        int i = 0;
        for (; i < I.loopBound(n); i += I.length()) {
            ShortVector h = ShortVector.fromMemorySegment(HALF_I, data, at + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + i);
        }
        for (; i < n; i++) dst[off + i] = FloatBits.bf16ToFloat(data.get(Tensor.SHORT, at + 2L * i));
    }

    /** The largest of the n 16-bit magnitudes (bits & 0x7fff) from byte at of data. */
    static short maxMagnitude16(MemorySegment data, long at, int n) {
        ShortVector acc = ShortVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += S.length())
            acc = acc.max(ShortVector.fromMemorySegment(S, data, at + 2L * i, ByteOrder.LITTLE_ENDIAN).and((short) 0x7fff));
        int m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, data.get(Tensor.SHORT, at + 2L * i) & 0x7fff);
        return (short) m;
    }

    /** The largest of the n 32-bit magnitudes (bits & 0x7fffffff) from byte at of data. */
    static int maxMagnitude32(MemorySegment data, long at, int n) {
        IntVector acc = IntVector.zero(I);
        int i = 0;
        for (; i < I.loopBound(n); i += I.length())
            acc = acc.max(IntVector.fromMemorySegment(I, data, at + 4L * i, ByteOrder.LITTLE_ENDIAN).and(0x7fffffff));
        int m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, data.get(Tensor.INT, at + 4L * i) & 0x7fffffff);
        return m;
    }
}
