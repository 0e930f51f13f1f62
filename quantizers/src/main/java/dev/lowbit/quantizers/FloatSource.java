package dev.lowbit.quantizers;

import dev.lowbit.formats.Tensor;

/** A tensor's values as float32 in logical row-major order: as stored, or transposed from a stored [cols, rows]. */
public interface FloatSource {
    long[] shape();

    /** Values [start, start + dst.length) in logical order. */
    void read(long start, float[] dst);

    default long numel() {
        return Tensor.numel(shape());
    }

    static FloatSource of(Tensor t) {
        return new FloatSource() {
            public long[] shape() { return t.shape(); }
            public void read(long start, float[] dst) { t.readFloats(start, dst); }
        };
    }

    /** A 2-D source [cols, rows] read as [rows, cols], an element at a time (small or replacement tensors). */
    static FloatSource transposed(FloatSource s) {
        long rows = s.shape()[1], cols = s.shape()[0];
        return new FloatSource() {
            public long[] shape() { return new long[] {rows, cols}; }

            public void read(long start, float[] dst) {
                float[] one = new float[1];
                for (int i = 0; i < dst.length; i++) {
                    long r = (start + i) / cols, c = (start + i) % cols;
                    s.read(c * rows + r, one);
                    dst[i] = one[0];
                }
            }
        };
    }

    /** A 2-D tensor stored [cols, rows] read as [rows, cols] (GPT-2's Conv1D weights as a Linear's). */
    static FloatSource transposed(Tensor t) {
        long rows = t.shape()[1], cols = t.shape()[0];
        return new FloatSource() {
            public long[] shape() { return new long[] {rows, cols}; }

            public void read(long start, float[] dst) {
                for (int i = 0; i < dst.length; i++) {
                    long r = (start + i) / cols, c = (start + i) % cols;
                    dst[i] = (float) t.getDouble(c * rows + r);
                }
            }
        };
    }
}
