package dev.lowbit.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/** A view of one stored tensor: its bytes stay in the mapped file. */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public long numel() {
        return numel(shape);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() {
        return data.byteSize();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    /** Element i as double, exactly (floats decode exactly; integers and bool as their value). */
    public double getDouble(long i) {
        long o = i * dtype.size();
        return switch (dtype) {
            case BOOL, U8 -> data.get(ValueLayout.JAVA_BYTE, o) & 0xff;
            case I8 -> data.get(ValueLayout.JAVA_BYTE, o);
            case F8_E4M3 -> FloatBits.e4m3ToFloat(data.get(ValueLayout.JAVA_BYTE, o));
            case F8_E5M2 -> FloatBits.e5m2ToFloat(data.get(ValueLayout.JAVA_BYTE, o));
            case I16 -> data.get(SHORT, o);
            case U16 -> data.get(SHORT, o) & 0xffff;
            case F16 -> FloatBits.f16ToFloat(data.get(SHORT, o));
            case BF16 -> FloatBits.bf16ToFloat(data.get(SHORT, o));
            case I32 -> data.get(INT, o);
            case U32 -> data.get(INT, o) & 0xffffffffL;
            case F32 -> data.get(FLOAT, o);
            case F64 -> data.get(DOUBLE, o);
            case I64 -> data.get(LONG, o);
            case U64 -> unsignedToDouble(data.get(LONG, o));
        };
    }

    private static double unsignedToDouble(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return d + (v & 1);
    }

    private static final ThreadLocal<short[]> HALVES = new ThreadLocal<>();

    /** A per-thread buffer of at least n shorts for the 16-bit float types' raw bits. */
    private static short[] halves(int n) {
        short[] a = HALVES.get();
        if (a == null || a.length < n) HALVES.set(a = new short[Math.max(n, 256)]);
        return a;
    }

    /** Elements [start, start+dst.length) decoded to float into dst. */
    public void readFloats(long start, float[] dst) {
        readFloats(start, dst, 0, dst.length);
    }

    /** Elements [start, start+n) decoded to float into dst[dstOff, dstOff+n). */
    public void readFloats(long start, float[] dst, int dstOff, int n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, FLOAT, start * 4, dst, dstOff, n);
            case BF16 -> FloatBits.bf16ToFloats(data, start * 2, dst, dstOff, n);
            case F16 -> {
                short[] bits = halves(n);
                MemorySegment.copy(data, SHORT, start * 2, bits, 0, n);
                for (int i = 0; i < n; i++) dst[dstOff + i] = FloatBits.f16ToFloat(bits[i]);
            }
            default -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = (float) getDouble(start + i);
            }
        }
    }

    /**
     * max |x| of elements [start, start+n) of an F16 or BF16 tensor, read from its bits without converting them;
     * NaN when they hold a NaN or an infinity (the caller reports which).
     */
    public float absmaxHalves(long start, int n) {
        int m = FloatBits.maxMagnitude16(data, start * 2, n);
        return switch (dtype) {
            case BF16 -> m >= 0x7f80 ? Float.NaN : FloatBits.bf16ToFloat((short) m);
            case F16 -> m >= 0x7c00 ? Float.NaN : FloatBits.f16ToFloat((short) m);
            default -> throw new IllegalStateException(name + ": " + dtype + " is not a 16-bit float");
        };
    }

    /** The whole tensor as floats: only for tensors that fit an array (norms, small weights, test data). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        readFloats(0, out);
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = (int) getDouble(i);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && data.byteSize() == t.data.byteSize() && data.mismatch(t.data) == -1;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
