package dev.lowbit.quantizers;

import dev.lowbit.formats.FloatBits;

/**
 * lowbit's native 8-bit layout, GGML Q8_0's math: blocks of 32 over the flattened tensor, d = absmax/127 stored as
 * f16, q = round(x · (1/d)) with halves away from zero (C roundf). 8.5 bits per weight.
 */
public record Int8Block(int block, long[] shape, byte[] q, short[] scales, QuantError error) {
    public static final int BLOCK = 32;

    public static Int8Block quantize(FloatSource src, String name) {
        long n = src.numel();
        int blocks = Math.toIntExact((n + BLOCK - 1) / BLOCK);
        byte[] q = new byte[Math.toIntExact(n)];
        short[] scales = new short[blocks];
        QuantError.Acc err = new QuantError.Acc();
        Blocks.parallel(blocks, 1 << 12, (lo, hi) -> {
            QuantError.Acc local = new QuantError.Acc();
            for (int b = lo; b < hi; b++) {
                long start = (long) b * BLOCK;
                float[] v = new float[(int) Math.min(BLOCK, n - start)];
                src.read(start, v);
                float d = Blocks.absmax(v, name, start) / 127f, id = d == 0 ? 0 : 1f / d;
                scales[b] = FloatBits.floatToF16(d);
                float dq = FloatBits.f16ToFloat(scales[b]);
                for (int i = 0; i < v.length; i++) {
                    int code = Math.round(v[i] * id);
                    if (v[i] * id < 0 && v[i] * id - Math.floor(v[i] * id) == 0.5f) code--; // roundf: halves away from zero
                    q[(int) (start + i)] = (byte) code;
                    local.add(v[i], code * dq);
                }
            }
            err.merge(local);
        });
        return new Int8Block(BLOCK, src.shape(), q, scales, err.result());
    }

    public float dequantize(long i) {
        return q[(int) i] * FloatBits.f16ToFloat(scales[(int) (i / block)]);
    }
}
