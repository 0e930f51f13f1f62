package dev.lowbit.quantizers;

import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.format.ScaleSearch;

/**
 * NF4/FP4 blockwise quantization exactly as bitsandbytes: blocks over the flattened tensor (last one may be partial),
 * absmax per block in float32, scaled = x · (1/absmax) clamped to [-1, 1], the codebook's decision rule, two codes per
 * byte with the first element in the high nibble. An all-zero block packs 0x00 as bitsandbytes' CUDA kernel does
 * (0 · (1/0) is NaN, which its decision trees send to code 0; its CPU library packs 0x77 instead); either way the block
 * dequantizes to 0 because its absmax is 0. NaN input is refused (see {@link Blocks#checkFinite}).
 */
public record FourBit(Codebook4 codebook, int block, long[] shape, byte[] packed, float[] absmax, DoubleQuant nested, QuantError error) {

    public static FourBit quantize(FloatSource src, Codebook4 cb, int block, boolean doubleQuant, String name) {
        return quantize(src, cb, block, doubleQuant, name, null, false);
    }

    /**
     * As bitsandbytes, or with search (always when an importance is given: one value per column of the 2-D weight)
     * each block's absmax field holds the scale {@link ScaleSearch#codebook} finds; bitsandbytes dequantizes code ×
     * that field all the same.
     */
    public static FourBit quantize(FloatSource src, Codebook4 cb, int block, boolean doubleQuant, String name, float[] importance, boolean search) {
        Blocks.checkBlock(block);
        long[] shape = src.shape();
        int cols = Math.toIntExact(shape[shape.length - 1]);
        if (importance != null && importance.length != cols)
            throw new IllegalArgumentException("tensor '" + name + "': importance of " + importance.length + " columns for rows of " + cols);
        boolean searched = search || importance != null;
        long n = src.numel();
        int blocks = Math.toIntExact((n + block - 1) / block);
        byte[] packed = new byte[Math.toIntExact((n + 1) / 2)];
        float[] absmax = new float[blocks];
        QuantError.Acc err = new QuantError.Acc();
        int zero = cb.code(0f);
        Blocks.parallel(blocks, 1 << 12, (lo, hi) -> {
            // Two buffers, and each block is packed one block later: reading codes right after the vector stores that
            // wrote them stalls on store-to-load forwarding (a third of the time went there).
            float[][] xs = {new float[block], new float[block]};
            int[][] cs = {new int[block], new int[block]};
            float[] back = new float[block];
            QuantError.Acc local = new QuantError.Acc();
            float[] pv = null;
            int[] pc = null;
            for (int b = lo; b < hi; b++) {
                long start = (long) b * block;
                int len = (int) Math.min(block, n - start);
                float[] v = len == block ? xs[b & 1] : new float[len];
                int[] codes = cs[b & 1];
                src.read(start, v);
                float m = Blocks.absmax(v, name, start);
                absmax[b] = m;
                float inv = 1f / m;
                if (m == 0) java.util.Arrays.fill(codes, 0, len, 0);
                else if (searched) absmax[b] = ScaleSearch.codebook(cb, v, len, m, weights(importance, start, len), 0, codes);
                else if (cb == Codebook4.NF4) Nf4Codes.codes(v, len, inv, codes);
                else for (int i = 0; i < len; i++) codes[i] = cb.code(Math.max(-1f, Math.min(1f, v[i] * inv)));
                if (pv != null) finish(cb, b - 1, block, pv, pc, absmax[b - 1], zero, packed, doubleQuant ? null : back, local);
                pv = v;
                pc = codes;
            }
            if (pv != null) finish(cb, hi - 1, block, pv, pc, absmax[hi - 1], zero, packed, doubleQuant ? null : back, local);
            err.merge(local);
        });
        if (!doubleQuant) return new FourBit(cb, block, src.shape(), packed, absmax, null, err.result());
        FourBit q = new FourBit(cb, block, src.shape(), packed, absmax, DoubleQuant.of(absmax), null);
        return new FourBit(cb, block, src.shape(), packed, absmax, q.nested(), q.errorAgainst(src));
    }

    /**
     * Packs block b's codes two per byte (first element in the high nibble) and, given a buffer for the dequantized
     * values, adds the block's error; without double quantization it is measured here against the block's own scale,
     * with it in {@link #errorAgainst}.
     */
    private static void finish(Codebook4 cb, int b, int block, float[] v, int[] codes, float m, int zero, byte[] packed, float[] back, QuantError.Acc err) {
        int len = v.length, base = (int) ((long) b * block >>> 1);
        for (int i = 0; i < len; i += 2) {
            int second = i + 1 < len ? codes[i + 1] : m == 0 ? 0 : zero; // an odd tail pads with the code of 0 · (1/absmax)
            packed[base + i / 2] = (byte) (codes[i] << 4 | second);
        }
        if (back == null) return;
        for (int i = 0; i < len; i++) back[i] = cb.value(codes[i]) * m;
        err.add(v, 0, back, 0, len);
    }

    /** The importance of elements [start, start+len) of the flattened weight (column = index mod cols), or null. */
    private static float[] weights(float[] importance, long start, int len) {
        if (importance == null) return null;
        float[] w = new float[len];
        for (int i = 0; i < len; i++) w[i] = importance[(int) ((start + i) % importance.length)];
        return w;
    }

    /** The error of what is stored (with double-quantized scales) against the source, in a second pass. */
    private QuantError errorAgainst(FloatSource src) {
        float[] a = effectiveAbsmax();
        long n = src.numel();
        QuantError.Acc err = new QuantError.Acc();
        Blocks.parallel(a.length, 1 << 12, (lo, hi) -> {
            QuantError.Acc local = new QuantError.Acc();
            float[] x = new float[block], back = new float[block];
            for (int b = lo; b < hi; b++) {
                long start = (long) b * block;
                int len = (int) Math.min(block, n - start);
                float[] v = len == block ? x : new float[len];
                src.read(start, v);
                float m = a[b];
                for (int i = 0; i < len; i++) {
                    int pair = packed[(int) ((start + i) >>> 1)] & 0xff;
                    back[i] = codebook.value(((start + i) & 1) == 0 ? pair >>> 4 : pair & 0xf) * m;
                }
                local.add(v, 0, back, 0, len);
            }
            err.merge(local);
        });
        return err.result();
    }

    /** The absmax values dequantization uses (from the double-quantized form when there is one). */
    public float[] effectiveAbsmax() {
        return nested == null ? absmax : nested.absmax();
    }

    public float dequantize(long i) {
        return value(i, effectiveAbsmax());
    }

    /** Every value, dequantized in one pass. */
    public float[] dequantizeAll() {
        float[] a = effectiveAbsmax(), out = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < out.length; i++) out[i] = value(i, a);
        return out;
    }

    private float value(long i, float[] absmax) {
        int b = packed[(int) (i >>> 1)] & 0xff;
        int code = (i & 1) == 0 ? b >>> 4 : b & 0xf;
        return codebook.value(code) * absmax[(int) (i / block)];
    }
}
