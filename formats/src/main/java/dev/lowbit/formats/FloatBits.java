package dev.lowbit.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Exact conversions between float32 and the narrow float formats (F16, BF16, F8 E4M3FN and E5M2). */
public final class FloatBits {
    private FloatBits() {}

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** IEEE round-to-nearest-even, overflow to infinity, NaN kept NaN. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(I.vectorBitSize() / 2));
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * The largest magnitude bits (bits & 0x7fff) of n little-endian 16-bit floats (F16 or BF16) from byte offset off:
     * both formats order their magnitudes like their bits, infinities and NaN above every finite value. Vector lanes
     * read straight from the mapped bytes, a scalar tail: 26-32 GB/s warm against 5.9 for the former plain loop (four
     * values a long, 400 ms of CPU in the pre-pass of a 1.1B model's NF4 + double quant). The running maximum is only
     * ever an argument, and is read after the loop through a fresh vector: a loop-carried vector used as a receiver can
     * make C2 run the loop on allocated vectors (a third of the 1.1B NF4 runs lost 1-3 s that way before).
     */
    public static int maxMagnitude16(MemorySegment src, long off, int n) {
        int l = S.length(), i = 0;
        ShortVector m = ShortVector.zero(S);
        for (; i <= n - l; i += l) m = ShortVector.fromMemorySegment(S, src, off + 2L * i, ByteOrder.LITTLE_ENDIAN).and((short) 0x7fff).max(m);
        int r = ShortVector.zero(S).max(m).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) r = Math.max(r, src.get(LE_SHORT, off + 2L * i) & 0x7fff);
        return r;
    }

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Whether any of n little-endian 16-bit floats from byte offset off has magnitude bits (bits & 0x7fff) above limit
     * (0x7f80 for a BF16 NaN, 0x7c00 for an F16 one). Four values a long, in plain code (no vector lanes: it runs in
     * short jobs, where uncompiled Vector API code is tens of times slower): each 16-bit lane of magnitude m gets
     * 0x7fff - limit added, which sets its top bit exactly when m > limit and never carries into the next lane.
     */
    public static boolean anyMagnitudeAbove(MemorySegment src, long off, int n, int limit) {
        long lanes = 0x7fff_7fff_7fff_7fffL, add = (0x7fff - limit) * 0x0001_0001_0001_0001L, seen = 0;
        int i = 0;
        for (; i <= n - 4; i += 4) seen |= (src.get(LE_LONG, off + 2L * i) & lanes) + add;
        boolean any = (seen & 0x8000_8000_8000_8000L) != 0;
        for (; i < n; i++) any |= (src.get(LE_SHORT, off + 2L * i) & 0x7fff) > limit;
        return any;
    }

    /**
     * n little-endian BF16 values from byte offset off of src into dst[dstOff, dstOff + n): vector lanes widened
     * straight from the mapped bytes (sign-extend, then shift: the low 16 bits are zero either way), a scalar tail.
     */
    public static void bf16ToFloats(MemorySegment src, long off, float[] dst, int dstOff, int n) {
        int i = 0, l = I.length();
        // reinterpretShape to the constant species F, not reinterpretAsFloats(): that finds its target species' class
        // through a call-site profile in the Vector API that every reinterpretation in the process shares.
        for (; i <= n - l; i += l)
            ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = bf16ToFloat(src.get(LE_SHORT, off + 2L * i));
    }

    /** Round-to-nearest-even on the upper 16 bits; NaN stays a quiet NaN with its sign. */
    public static short floatToBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) return (short) ((b >>> 16) | 0x0040);
        int rounded = b + 0x7fff + ((b >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** F8 E4M3FN: bias 7, no infinities, S.1111.111 is NaN, max 448. */
    public static float e4m3ToFloat(byte v) {
        int b = v & 0xff;
        int sign = b >>> 7, exp = (b >>> 3) & 0xf, man = b & 0x7;
        float mag;
        if (exp == 0xf && man == 0x7) return Float.NaN;
        if (exp == 0) mag = man * 0x1p-9f;
        else mag = Math.scalb(1f + man / 8f, exp - 7);
        return sign == 1 ? -mag : mag;
    }

    /** F8 E5M2: bias 15, IEEE-like with infinities and NaNs; the upper byte of an F16. */
    public static float e5m2ToFloat(byte v) {
        return Float.float16ToFloat((short) ((v & 0xff) << 8));
    }
}
