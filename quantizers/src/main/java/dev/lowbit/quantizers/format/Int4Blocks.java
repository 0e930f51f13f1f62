package dev.lowbit.quantizers.format;

import dev.lowbit.quantizers.QuantError;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * lowbit's int4 groups. Symmetric: s = absmax/7, q = clamp(rint(x/s), −8, 7) + 8. Asymmetric: s = (max − min)/15,
 * zero = clamp(rint(−min/s), 0, 15), q = clamp(rint(x/s) + zero, 0, 15). The scale is stored as f16 and the codes
 * use the stored scale. Block: f16 scale, [u8 zero], group/2 bytes of codes, the first element in the low nibble.
 */
final class Int4Blocks implements WeightFormat {
    private final int group;
    private final boolean asym, search;
    /** Whether every block's zero is 8 (no zero byte). */
    boolean symmetric() {
        return !asym;
    }

    Int4Blocks(int group, boolean asym) {
        this(group, asym, false);
    }

    /** search: each group's scale (and zero) searched ({@link ScaleSearch}) rather than absmax. */
    Int4Blocks(int group, boolean asym, boolean search) {
        if (group < 2 || group % 2 != 0) throw new IllegalArgumentException("int4 group size " + group + " must be even");
        this.group = group;
        this.asym = asym;
        this.search = search;
    }

    public String name() { return asym ? "int4-asym" : "int4"; }
    public int ggmlType() { return -1; }
    public int blockSize() { return group; }
    public int blockBytes() { return 2 + (asym ? 1 : 0) + group / 2; }

    private int codesAt() {
        return asym ? 3 : 2;
    }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    /** With search (or an importance): each group's scale (and zero) by {@link ScaleSearch#int4}, weighted by importance. */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        MemorySegment out = MemorySegment.ofArray(dst);
        int[] codes = new int[group];
        for (int g = 0; g < n / group; g++) {
            int base = srcOff + g * group, at = dstOff + g * blockBytes();
            ScaleSearch.Int4 c = absmax(src, base);
            if (search || importance != null)
                c = ScaleSearch.int4(src, base, group, asym, c, importance, importance == null ? 0 : impOff + g * group, codes);
            else codes(src, base, group, c.scale(), c.zero(), codes);
            out.set(F16.LE, at, c.scale());
            if (asym) dst[at + 2] = (byte) c.zero();
            for (int i = 0; i < group; i += 2) dst[at + codesAt() + i / 2] = (byte) (codes[i] | codes[i + 1] << 4);
        }
    }

    /** The absmax encoding: s = absmax/7 (symmetric) or (max − min)/15 with zero = clamp(rint(−min/s), 0, 15). */
    private ScaleSearch.Int4 absmax(float[] src, int base) {
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY, m = 0;
        for (int i = 0; i < group; i++) {
            float x = src[base + i];
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
            m = Math.max(m, Math.abs(x));
        }
        short s = Float.floatToFloat16(asym ? (hi - lo) / 15f : m / 7f);
        float sd = Float.float16ToFloat(s), inv = sd == 0 ? 0 : 1f / sd;
        return new ScaleSearch.Int4(s, asym ? (int) Math.max(0, Math.min(15, Math.rint(-lo * inv))) : 8);
    }

    /** codes = clamp(rint(x / s) + zero, 0, 15) with the stored (f16) scale s. */
    static void codes(float[] src, int base, int len, short scale, int zero, int[] codes) {
        float sd = Float.float16ToFloat(scale), inv = sd == 0 ? 0 : 1f / sd;
        for (int i = 0; i < len; i++) codes[i] = (int) Math.max(0, Math.min(15, Math.rint(src[base + i] * inv) + zero));
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** 1.5 · 2^23: (t + ROUND) − ROUND is t rounded to the nearest integer, ties to even (rint) for |t| < 2^22. */
    private static final float ROUND = 12582912f;

    /**
     * Without a search, and groups of whole vectors: each group's min and max, then its codes and their dequantized
     * values (into back) in vector lanes, the error from those in lanes ({@link QuantError.Acc#add(float[], int,
     * float[], int, int)}). The same bytes as the encoder above: the same min, max and absmax (max |x| = max(|min|,
     * |max|)), the f16 scale and zero from them as there, rint by the round-to-nearest-even of adding 1.5 · 2^23 (codes
     * are clamped to [0, 15], so larger quotients cannot change them). As the GGUF lanes, for jobs from
     * {@link LaneEncoders#MIN_WEIGHTS} on: a 1.1B BF16 model's int4 export 2.90 -> 2.22 s end to end (decoding every
     * block again and comparing value by value before), an 82M model's 0.79 -> 0.91 s (the lanes uncompiled for longer).
     */
    @Override
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, float[] back, QuantError.Acc err) {
        int l = F.length();
        if (search || importance != null || group % l != 0 || !LaneEncoders.on()) {
            WeightFormat.super.quantize(src, srcOff, n, dst, dstOff, importance, impOff, back, err);
            return;
        }
        MemorySegment out = MemorySegment.ofArray(dst);
        int[] codes = new int[group];
        for (int g = 0; g < n / group; g++) {
            int base = srcOff + g * group, at = dstOff + g * blockBytes();
            // the running min and max are only arguments, read after the loop through fresh vectors (see BlockDots.extreme32)
            FloatVector lo = FloatVector.broadcast(F, Float.POSITIVE_INFINITY), hi = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < group; i += l) {
                FloatVector x = FloatVector.fromArray(F, src, base + i);
                lo = x.min(lo);
                hi = x.max(hi);
            }
            float min = FloatVector.broadcast(F, Float.POSITIVE_INFINITY).min(lo).reduceLanes(VectorOperators.MIN);
            float max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).max(hi).reduceLanes(VectorOperators.MAX);
            short s = Float.floatToFloat16(asym ? (max - min) / 15f : Math.max(Math.abs(min), Math.abs(max)) / 7f);
            float sd = Float.float16ToFloat(s), inv = sd == 0 ? 0 : 1f / sd;
            int zero = asym ? (int) Math.max(0, Math.min(15, Math.rint(-min * inv))) : 8;
            out.set(F16.LE, at, s);
            if (asym) dst[at + 2] = (byte) zero;
            for (int i = 0; i < group; i += l) {
                FloatVector c = FloatVector.fromArray(F, src, base + i).mul(inv).add(ROUND).sub(ROUND).add(zero).max(0f).min(15f);
                ((IntVector) c.convertShape(VectorOperators.F2I, I, 0)).intoArray(codes, i);
                c.sub(zero).mul(sd).intoArray(back, g * group + i);
            }
            for (int i = 0; i < group; i += 2) dst[at + codesAt() + i / 2] = (byte) (codes[i] | codes[i + 1] << 4);
        }
        err.add(src, srcOff, back, 0, n);
    }

    public boolean usesImportance() { return true; }

    public WeightFormat withScaleSearch() {
        return new Int4Blocks(group, asym, true);
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int g = 0; g < n / group; g++) {
            long at = off + (long) g * blockBytes();
            float s = Float.float16ToFloat(src.get(F16.LE, at));
            int zero = asym ? src.get(ValueLayout.JAVA_BYTE, at + 2) & 0xff : 8;
            for (int i = 0, o = dstOff + g * group; i < group; i += 2, o += 2) {
                int q = src.get(ValueLayout.JAVA_BYTE, at + codesAt() + i / 2) & 0xff;
                dst[o] = ((q & 0xf) - zero) * s;
                dst[o + 1] = ((q >>> 4) - zero) * s;
            }
        }
    }
}
