package dev.lowbit.quantizers.format;

import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.Nf4Codes;
import dev.lowbit.quantizers.QuantError;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * lowbit's nf4 / fp4 blocks: bitsandbytes' math (absmax per block, x · (1/absmax), the codebook's decision rule, an
 * all-zero block coded 0) with each block self-contained: float32 absmax, then block/2 bytes of codes, the first
 * element in the high nibble.
 */
final class FourBitBlocks implements WeightFormat {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final Codebook4 cb;
    private final int block;
    private final boolean search;
    /** The codebook's 16 values, for {@link BlockDots}. */
    final float[] values;

    FourBitBlocks(Codebook4 cb, int block) {
        this(cb, block, false);
    }

    /** search: each block's scale searched ({@link ScaleSearch}) rather than its absmax. */
    FourBitBlocks(Codebook4 cb, int block, boolean search) {
        if (block < 2 || block % 2 != 0) throw new IllegalArgumentException("4-bit block size " + block + " must be even");
        this.cb = cb;
        this.block = block;
        this.search = search;
        this.values = cb.table();
    }

    public String name() { return cb.bnbName(); }
    public int ggmlType() { return -1; }
    public int blockSize() { return block; }
    public int blockBytes() { return 4 + block / 2; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    /** With search (or an importance): each block's stored scale by {@link ScaleSearch#codebook}, weighted by importance. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        float[] v = new float[block];
        int[] codes = new int[block];
        MemorySegment out = MemorySegment.ofArray(dst);
        for (int b = 0; b < n / block; b++) {
            System.arraycopy(src, srcOff + b * block, v, 0, block);
            float m = 0;
            for (float x : v) m = Math.max(m, Math.abs(x));
            float inv = 1f / m;
            if (m == 0) Arrays.fill(codes, 0);
            else if (search || importance != null) m = ScaleSearch.codebook(cb, v, block, m, importance, importance == null ? 0 : impOff + b * block, codes);
            else if (cb == Codebook4.NF4) Nf4Codes.codes(v, block, inv, codes);
            else for (int i = 0; i < block; i++) codes[i] = cb.code(Math.max(-1f, Math.min(1f, v[i] * inv)));
            int at = dstOff + b * blockBytes();
            out.set(F32, at, m);
            for (int i = 0; i < block; i += 2) dst[at + 4 + i / 2] = (byte) (codes[i] << 4 | codes[i + 1]);
        }
    }

    /**
     * NF4 without a search: each block's absmax and 1/absmax, then the row's codes and their error in one vector pass
     * ({@link Nf4Codes}, as the hf-bnb one pass does), no decoding again; blocks of zeros or of a subnormal absmax (an
     * infinite 1/absmax) are coded and measured here. The same bytes as the encoder above; the error is summed in
     * float32 lanes (a 1.1B model's nf4 export 3.0-3.8 s end to end with the decode-and-compare measurement).
     */
    @Override
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, float[] back, QuantError.Acc err) {
        if (cb != Codebook4.NF4 || search || importance != null) {
            WeightFormat.super.quantize(src, srcOff, n, dst, dstOff, importance, impOff, back, err);
            return;
        }
        int blocks = n / block;
        Scratch s = SCRATCH.get();
        if (s.codes.length < n || s.inv.length < blocks) SCRATCH.set(s = new Scratch(n, blocks));
        int[] codes = s.codes;
        float[] inv = s.inv, scale = s.scale;
        MemorySegment out = MemorySegment.ofArray(dst);
        for (int b = 0; b < blocks; b++) {
            float m = 0;
            for (int i = srcOff + b * block, end = i + block; i < end; i++) m = Math.max(m, Math.abs(src[i]));
            float r = 1f / m;
            inv[b] = m != 0 && Float.isFinite(r) ? r : 0;
            scale[b] = m;
            out.set(F32, dstOff + (long) b * blockBytes(), m);
        }
        Nf4Codes.codes(src, srcOff, n, block, inv, scale, codes, 0, err);
        for (int b = 0; b < blocks; b++) {
            int first = b * block, at = dstOff + b * blockBytes() + 4;
            if (inv[b] == 0) {
                float m = scale[b], r = 1f / m;
                for (int i = first; i < first + block; i++) {
                    int c = m == 0 ? 0 : cb.code(Math.max(-1f, Math.min(1f, src[srcOff + i] * r)));
                    codes[i] = c;
                    err.add(src[srcOff + i], cb.value(c) * m);
                }
            }
            for (int i = 0; i < block; i += 2) dst[at + i / 2] = (byte) (codes[first + i] << 4 | codes[first + i + 1]);
        }
    }

    /** Per-thread buffers of the measured NF4 path: a row's codes, its blocks' 1/absmax and absmax. */
    private record Scratch(int[] codes, float[] inv, float[] scale) {
        Scratch(int n, int blocks) {
            this(new int[n], new float[blocks], new float[blocks]);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(0, 0));

    public boolean usesImportance() { return true; }

    public WeightFormat withScaleSearch() {
        return new FourBitBlocks(cb, block, true);
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / block; b++) {
            long at = off + (long) b * blockBytes();
            float m = src.get(F32, at);
            for (int i = 0, o = dstOff + b * block; i < block; i += 2, o += 2) {
                int q = src.get(ValueLayout.JAVA_BYTE, at + 4 + i / 2) & 0xff;
                dst[o] = cb.value(q >>> 4) * m;
                dst[o + 1] = cb.value(q & 0xf) * m;
            }
        }
    }
}
