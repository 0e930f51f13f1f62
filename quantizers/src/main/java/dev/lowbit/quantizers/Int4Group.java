package dev.lowbit.quantizers;

import dev.lowbit.formats.FloatBits;

/**
 * Group-wise 4-bit: groups of g consecutive values along each row (g divides the row length), f16 scale per group.
 * Symmetric: s = absmax/7, q = clamp(rint(x/s), −8, 7) + 8. Asymmetric: s = (max−min)/15, zero = clamp(rint(−min/s), 0, 15),
 * q = clamp(rint(x/s) + zero, 0, 15), zeros stored as u8. Packed two per byte, first element in the low nibble.
 */
public record Int4Group(int group, boolean asymmetric, long[] shape, byte[] packed, short[] scales, byte[] zeros, QuantError error) {

    public static Int4Group quantize(FloatSource src, int group, boolean asym, String name) {
        long n = src.numel();
        long cols = src.shape().length == 0 ? 1 : src.shape()[src.shape().length - 1];
        if (group < 2 || group % 2 != 0 || cols % group != 0)
            throw new IllegalArgumentException("tensor '" + name + "': group size " + group + " does not divide its rows of " + cols);
        int groups = Math.toIntExact(n / group);
        byte[] packed = new byte[Math.toIntExact(n / 2)];
        short[] scales = new short[groups];
        byte[] zeros = asym ? new byte[groups] : null;
        QuantError.Acc err = new QuantError.Acc();
        Blocks.parallel(groups, 1 << 12, (lo, hi) -> {
            float[] v = new float[group];
            QuantError.Acc local = new QuantError.Acc();
            for (int g = lo; g < hi; g++) {
                long start = (long) g * group;
                src.read(start, v);
                float lo2 = Float.POSITIVE_INFINITY, hi2 = Float.NEGATIVE_INFINITY;
                float m = Blocks.absmax(v, name, start);
                for (float x : v) {
                    lo2 = Math.min(lo2, x);
                    hi2 = Math.max(hi2, x);
                }
                float s = asym ? (hi2 - lo2) / 15f : m / 7f;
                scales[g] = FloatBits.floatToF16(s);
                float sd = FloatBits.f16ToFloat(scales[g]), inv = sd == 0 ? 0 : 1f / sd;
                int zero = asym ? (int) Math.max(0, Math.min(15, Math.rint(-lo2 * inv))) : 8;
                if (asym) zeros[g] = (byte) zero;
                for (int i = 0; i < group; i++) {
                    int code = (int) Math.max(0, Math.min(15, Math.rint(v[i] * inv) + zero));
                    int idx = (int) ((start + i) >>> 1);
                    packed[idx] = (byte) ((i & 1) == 0 ? (packed[idx] & 0xf0) | code : (packed[idx] & 0x0f) | code << 4);
                    local.add(v[i], (code - zero) * sd);
                }
            }
            err.merge(local);
        });
        return new Int4Group(group, asym, src.shape(), packed, scales, zeros, err.result());
    }

    public float dequantize(long i) {
        int b = packed[(int) (i >>> 1)] & 0xff;
        int code = (i & 1) == 0 ? b & 0xf : b >>> 4;
        int g = (int) (i / group);
        int zero = asymmetric ? zeros[g] : 8;
        return (code - zero) * FloatBits.f16ToFloat(scales[g]);
    }
}
