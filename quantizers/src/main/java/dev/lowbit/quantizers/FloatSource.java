package dev.lowbit.quantizers;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.Tensor;

/** A tensor's values as float32 in logical row-major order: as stored, or transposed from a stored [cols, rows]. */
public interface FloatSource {
    long[] shape();

    /** Values [start, start + dst.length) in logical order. */
    void read(long start, float[] dst);

    default long numel() {
        return Tensor.numel(shape());
    }

    /**
     * max |x| of each block of `block` values in blocks [b0, b1) into out[b] (the tensor's last block may be partial),
     * refusing NaN and infinities as {@link Blocks#absmax} does; scratch holds at least one span of whole blocks.
     */
    default void blockAbsmax(int block, int b0, int b1, float[] out, float[] scratch, String name) {
        Blocks.blockAbsmax(this, block, b0, b1, out, scratch, name);
    }

    static FloatSource of(Tensor t) {
        boolean halves = t.dtype() == DType.BF16 || t.dtype() == DType.F16;
        return new FloatSource() {
            public long[] shape() { return t.shape(); }
            public void read(long start, float[] dst) { t.readFloats(start, dst); }

            /** 16-bit floats: the max of their magnitude bits, no conversion (the float path names a non-finite value). */
            public void blockAbsmax(int block, int b0, int b1, float[] out, float[] scratch, String name) {
                if (!halves) {
                    FloatSource.super.blockAbsmax(block, b0, b1, out, scratch, name);
                    return;
                }
                long n = numel();
                for (int b = b0; b < b1; b++) {
                    long start = (long) b * block;
                    out[b] = t.absmaxHalves(start, (int) Math.min(block, n - start));
                    if (Float.isNaN(out[b])) Blocks.blockAbsmax(this, block, b, b + 1, out, scratch, name);
                }
            }
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
