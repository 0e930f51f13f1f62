package dev.lowbit.quantizers;

/** Test values as a FloatSource. */
record ArraySource(float[] v, long[] shape) implements FloatSource {
    ArraySource(float[] v) {
        this(v, new long[] {v.length});
    }

    public void read(long start, float[] dst) {
        System.arraycopy(v, (int) start, dst, 0, dst.length);
    }
}
