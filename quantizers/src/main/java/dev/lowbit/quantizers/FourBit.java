package dev.lowbit.quantizers;

import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.format.ScaleSearch;
import java.util.Arrays;

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
        return quantize(src, cb, block, doubleQuant, name, importance, search, Float.NaN);
    }

    /**
     * As above; offset, when not NaN, is the double quantization's offset (the mean of the plain absmax, which the
     * caller already computed for the file's header). Plain scales (no importance, no search) run in one pass, see
     * {@link #onePass}, with double quantization when the offset is given; double quantization without it takes the
     * two-pass path.
     */
    public static FourBit quantize(FloatSource src, Codebook4 cb, int block, boolean doubleQuant, String name, float[] importance, boolean search,
            float offset) {
        return quantize(src, cb, block, doubleQuant, name, importance, search, offset, null);
    }

    /**
     * As above; scales, when not null, are the plain absmax of every block, as {@link FloatSource#blockAbsmax} gives
     * them (the caller's pass for the offset), taken by the one-pass path instead of reading the source for them again.
     */
    public static FourBit quantize(FloatSource src, Codebook4 cb, int block, boolean doubleQuant, String name, float[] importance, boolean search,
            float offset, float[] scales) {
        Blocks.checkBlock(block);
        if (importance == null && !search && !(doubleQuant && Float.isNaN(offset))) return onePass(src, cb, block, name, doubleQuant ? offset : Float.NaN, scales);
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
            Span span = new Span(src, block, n);
            QuantError.Acc local = new QuantError.Acc();
            float[] pv = null;
            int[] pc = null;
            for (int b = lo; b < hi; b++) {
                long start = (long) b * block;
                int len = (int) Math.min(block, n - start);
                float[] v = len == block ? xs[b & 1] : new float[len];
                int[] codes = cs[b & 1];
                span.read(b, hi, v);
                float m = Blocks.absmax(v, name, start);
                absmax[b] = m;
                if (searched && m != 0) absmax[b] = ScaleSearch.codebook(cb, v, len, m, weights(importance, start, len), 0, codes);
                else codes(cb, v, 0, len, m, codes, 0);
                if (pv != null) finish(cb, b - 1, block, pv, 0, pv.length, pc, 0, absmax[b - 1], absmax[b - 1], zero, packed, doubleQuant ? null : back, local);
                pv = v;
                pc = codes;
            }
            if (pv != null) finish(cb, hi - 1, block, pv, 0, pv.length, pc, 0, absmax[hi - 1], absmax[hi - 1], zero, packed, doubleQuant ? null : back, local);
            err.merge(local);
        });
        if (!doubleQuant) return new FourBit(cb, block, src.shape(), packed, absmax, null, err.result());
        FourBit q = new FourBit(cb, block, src.shape(), packed, absmax, DoubleQuant.of(absmax), null);
        return new FourBit(cb, block, src.shape(), packed, absmax, q.nested(), q.errorAgainst(src));
    }

    /**
     * Packs block b's codes two per byte (first element in the high nibble) and, given a buffer for the dequantized
     * values, adds the error of the block's values v[off, off + len) against scale: its absmax m, or its
     * double-quantized scale (with double quantization of other scales, the error is measured in
     * {@link #errorAgainst}).
     */
    private static void finish(Codebook4 cb, int b, int block, float[] v, int off, int len, int[] codes, int cOff, float m, float scale, int zero,
            byte[] packed, float[] back, QuantError.Acc err) {
        int base = (int) ((long) b * block >>> 1), pairs = len >>> 1;
        for (int j = 0; j < pairs; j++) packed[base + j] = (byte) (codes[cOff + 2 * j] << 4 | codes[cOff + 2 * j + 1]);
        if ((len & 1) != 0) packed[base + pairs] = (byte) (codes[cOff + len - 1] << 4 | (m == 0 ? 0 : zero)); // an odd tail pads with the code of 0 · (1/absmax)
        if (back == null) return;
        for (int i = 0; i < len; i++) back[i] = cb.value(codes[cOff + i]) * scale;
        err.add(v, off, back, 0, len);
    }

    /**
     * Reads blocks from the source a span of up to {@value #SPAN} values at a time: one conversion call per span
     * instead of one per 64-value block, whose fixed cost was most of the reading.
     */
    private static final class Span {
        static final int SPAN = 1 << 14;
        private final FloatSource src;
        private final int block;
        private final long n;
        private final float[] buf;
        private long first = -1, end = -1; // elements [first, end) are in buf

        Span(FloatSource src, int block, long n) {
            this.src = src;
            this.block = block;
            this.n = n;
            this.buf = new float[Math.max(block, SPAN / block * block)];
        }

        /** Block b's values into v (v.length of them), reading ahead no further than block hi. */
        void read(int b, int hi, float[] v) {
            long start = (long) b * block;
            if (start < first || start + v.length > end) {
                first = start;
                end = Math.min(Math.min(n, (long) hi * block), start + buf.length);
                if (end - first == buf.length) src.read(first, buf);
                else {
                    float[] part = new float[(int) (end - first)];
                    src.read(first, part);
                    System.arraycopy(part, 0, buf, 0, part.length);
                }
            }
            System.arraycopy(buf, (int) (start - first), v, 0, v.length);
        }
    }

    /**
     * Codes of v[off, off + len) into codes[cOff, cOff + len) for scale m (absmax): the codebook's decision on v · (1/m)
     * clamped to [-1, 1]; zeros for m = 0.
     */
    private static void codes(Codebook4 cb, float[] v, int off, int len, float m, int[] codes, int cOff) {
        float inv = 1f / m;
        if (m == 0) Arrays.fill(codes, cOff, cOff + len, 0);
        else if (cb == Codebook4.NF4 && off == 0 && cOff == 0) Nf4Codes.codes(v, len, inv, codes); // the vector twin of the loop below
        else for (int i = 0; i < len; i++) codes[cOff + i] = cb.code(Math.max(-1f, Math.min(1f, v[off + i] * inv)));
    }

    /**
     * Plain scales (absmax), with double quantization when offset is not NaN, in one pass over the source: the
     * double-quantized scale of a block depends only on the offset (given) and on the 255 other absmax of its nested
     * block, so each task takes whole nested blocks (256 blocks): takes their absmax (given as scales, else from the
     * bits for 16-bit floats), double-quantizes them, then reads their values {@value #CHUNK_VALUES} at a time into a
     * buffer that stays in L1, codes, packs and measures each block against the scale it will dequantize with. The bytes
     * are those of the two-pass path (codes from the plain absmax, as bitsandbytes).
     */
    private static FourBit onePass(FloatSource src, Codebook4 cb, int block, String name, float offset, float[] scales) {
        boolean dq = !Float.isNaN(offset);
        long n = src.numel();
        int blocks = Math.toIntExact((n + block - 1) / block), groups = (blocks + DoubleQuant.NESTED_BLOCK - 1) / DoubleQuant.NESTED_BLOCK;
        if (scales != null && scales.length != blocks) throw new IllegalArgumentException("tensor '" + name + "': " + scales.length + " scales for " + blocks + " blocks");
        byte[] packed = new byte[Math.toIntExact((n + 1) / 2)], dqCodes = dq ? new byte[blocks] : null;
        float[] absmax = scales != null ? scales : new float[blocks], nested = dq ? new float[groups] : null, map = DynamicMap.signed();
        QuantError.Acc err = new QuantError.Acc();
        int zero = cb.code(0f), chunk = Math.max(1, CHUNK_VALUES / block);
        Blocks.parallel(groups, 16, (g0, g1) -> {
            float[] scratch = new float[Math.max(1, Span.SPAN / block) * block], values = new float[chunk * block], back = new float[block];
            float[] inv = new float[chunk], scale = new float[chunk];
            int[] codes = new int[chunk * block];
            QuantError.Acc local = new QuantError.Acc();
            for (int g = g0; g < g1; g++) {
                int b0 = g * DoubleQuant.NESTED_BLOCK, b1 = Math.min(blocks, b0 + DoubleQuant.NESTED_BLOCK);
                if (scales == null) src.blockAbsmax(block, b0, b1, absmax, scratch, name);
                if (dq) DoubleQuant.group(absmax, g, offset, dqCodes, nested);
                for (int c0 = b0; c0 < b1; c0 += chunk) {
                    int c1 = Math.min(b1, c0 + chunk);
                    float[] v = Blocks.read(src, block, c0, c1, values);
                    int count = v.length;
                    // NF4 codes the chunk's blocks (not the all-zero ones) in one call, the error in its vector lanes
                    for (int b = c0; b < c1; b++) {
                        scale[b - c0] = dq ? DoubleQuant.scale(map, dqCodes, nested, offset, b) : absmax[b];
                        float r = 1f / absmax[b]; // infinite for a subnormal absmax: such a block is coded by the scalar loop
                        inv[b - c0] = cb == Codebook4.NF4 && absmax[b] != 0 && Float.isFinite(r) ? r : 0;
                    }
                    if (cb == Codebook4.NF4) Nf4Codes.codes(v, 0, count, block, inv, scale, codes, 0, local);
                    for (int b = c0; b < c1; b++) {
                        int off = (b - c0) * block, len = Math.min(block, count - off);
                        boolean counted = inv[b - c0] != 0;
                        if (!counted) codes(cb, v, off, len, absmax[b], codes, off);
                        finish(cb, b, block, v, off, len, codes, off, absmax[b], scale[b - c0], zero, packed, counted ? null : back, local);
                    }
                }
            }
            err.merge(local);
        });
        return new FourBit(cb, block, src.shape(), packed, absmax, dq ? new DoubleQuant(dqCodes, nested, offset) : null, err.result());
    }

    /** Values per read in {@link #onePass}: 4 KiB of floats, which stay in L1 between the read and the codes. */
    private static final int CHUNK_VALUES = 1024;

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
            Span span = new Span(src, block, n);
            for (int b = lo; b < hi; b++) {
                long start = (long) b * block;
                int len = (int) Math.min(block, n - start);
                float[] v = len == block ? x : new float[len];
                span.read(b, hi, v);
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
