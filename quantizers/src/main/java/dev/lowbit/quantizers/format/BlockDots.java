package dev.lowbit.quantizers.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of one stored row with float activations, straight from the blocks: every GGUF block type lowbit
 * reads (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K to Q6_K, IQ4_NL, IQ4_XS), F16, BF16, and lowbit's nf4/fp4 and int4
 * groups. The quants are widened to floats in registers (4-bit codebooks through their 16 values by a lane permute),
 * eight or sixteen at a time, and never stored. Generating a token reads every weight once per token, so decoding rows
 * to a float buffer first (the general path, with each format's scalar decoder) cost more than the multiply itself:
 * 30-43 tokens/s on the 82M fixture for the types that took it, against 117-342 with these. Block sums are scaled by
 * the block's d and added in a fixed order, and the lanes in the fixed tree order of {@link #sum}, so compiled and
 * interpreted runs give the same float. The scaled sums go to two or four accumulators in turn (Q4_0, Q8_0: even and
 * odd blocks; the K-quants: their scale and min terms, or groups), added at the end: with one, every block waited on
 * the previous block's fma (4 cycles), longer than its own work. The K-quants and IQ4_XS decode a row's scales into
 * the scratch first and then run one flat loop (see {@link #qk}).
 */
public final class BlockDots {
    private BlockDots() {}

    /** The preferred float species when it has 8 or 16 lanes (a block of 32 is 4 or 2 vectors), with bytes to match. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, 16 * L)));
    /**
     * 16-bit lanes in B's shape, for shifts of byte pairs. Every reinterpretation and conversion here names its
     * target species (reinterpretShape, convertShape): reinterpretAsShorts() and convert(op, 0) find the target's class
     * through a call-site profile in the Vector API that every such call in the process shares, and C2 then
     * recompiled the quantizer kernels on class-check traps or ran them on allocated vectors.
     */
    static final VectorSpecies<Short> HB = VectorSpecies.of(short.class, B.vectorShape());
    static final boolean USABLE = L == 8 || L == 16;

    /** Whether rows of this format have a fused dot here. */
    public static boolean supports(WeightFormat f) {
        return USABLE && (f instanceof Q4_0 || f instanceof Q8_0 || f instanceof Q4_K || f instanceof Q5_K || f instanceof Q6_K || f instanceof Iq4Nl
                || f instanceof Iq4Xs || f instanceof Q4_1 || f instanceof Q5_0 || f instanceof Q5_1 || f instanceof Q2_K || f instanceof Q3_K
                || f instanceof F16 || f instanceof Bf16
                || (f instanceof FourBitBlocks || f instanceof Int4Blocks) && f.blockSize() / 2 % L == 0);
    }

    /**
     * Whether {@link #dot} takes x as {@link #split} lays it out: lowbit's nf4/fp4 and int4 blocks, whose bytes hold
     * two neighbouring elements, dot one nibble of each byte with x's even elements and the other with the odd ones.
     */
    public static boolean splitsX(WeightFormat f) {
        return f instanceof FourBitBlocks || f instanceof Int4Blocks;
    }

    /** x[xo, xo + n) (n even) as its n/2 even elements followed by its n/2 odd ones, into dst[dstOff, dstOff + n). */
    public static void split(float[] x, int xo, int n, float[] dst, int dstOff) {
        for (int j = 0; j < n / 2; j++) {
            dst[dstOff + j] = x[xo + 2 * j];
            dst[dstOff + n / 2 + j] = x[xo + 2 * j + 1];
        }
    }

    /**
     * Σ_i x[xo + i] · w_i over the row of n values whose first block is at byte off of src; lanes is scratch of at least
     * {@link #scratch} floats, where the row's lane partials are summed (see {@link #sum}). For a format that
     * {@link #splitsX}, x[xo, xo + n) is laid out by {@link #split}. The K-quants' and IQ4_XS' scales are decoded here,
     * into lanes, not in their kernels: C2 stops inlining in a method past a number of IR nodes, and with the Q3_K
     * scale decoder inlined in the Q2_K/Q3_K kernel (both hot in a Q2_K file) the kernel's last vector calls ran on
     * allocated vectors, a Q2_K file generating at a quarter of the speed.
     */
    public static float dot(WeightFormat f, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        if (f instanceof Q4_0) q4_0(src, off, n, x, xo, lanes);
        else if (f instanceof Q8_0) q8_0(src, off, n, x, xo, lanes);
        else if (f instanceof Q4_K || f instanceof Q5_K) {
            k4Scales(src, off, f.blockBytes(), n, lanes);
            qk(f instanceof Q5_K, src, off, n, x, xo, lanes);
        } else if (f instanceof Iq4Nl) iq4(false, src, off, n, x, xo, lanes);
        else if (f instanceof Iq4Xs) {
            xsScales(src, off, n, lanes);
            iq4(true, src, off, n, x, xo, lanes);
        } else if (f instanceof Q4_1) q4_1(src, off, n, x, xo, lanes);
        else if (f instanceof Q2_K || f instanceof Q3_K) {
            if (f instanceof Q3_K) k3Scales(src, off, n, lanes);
            else k2Scales(src, off, n, lanes);
            lowBits(f instanceof Q3_K, src, off, n, x, xo, lanes);
        }
        else if (f instanceof Q5_0 || f instanceof Q5_1) q5(f instanceof Q5_1, src, off, n, x, xo, lanes);
        else if (f instanceof F16 || f instanceof Bf16) halves(f, src, off, n, x, xo, lanes);
        else if (f instanceof FourBitBlocks fb) fourBit(fb.values, fb.blockSize(), fb.blockBytes(), null, 0, src, off, n, x, xo, lanes);
        else if (f instanceof Int4Blocks i4) int4(!i4.symmetric(), i4.blockSize(), i4.blockBytes(), src, off, n, x, xo, lanes);
        else q6_k(src, off, n, x, xo, lanes);
        return sum(lanes);
    }

    /** Lanes of the vectors here. */
    public static int lanes() {
        return L;
    }

    /** The scratch {@link #dot} needs for rows of n values: the lanes, or the scales (and mins) of the row's groups. */
    public static int scratch(int n) {
        return Math.max(L, n / 8);
    }

    /** Q4_0: block {f16 d; u8 qs[16]}, w_j = d·((qs[j] & 15) − 8), w_{j+16} = d·((qs[j] >> 4) − 8). */
    static void q4_0(MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(F), other = acc;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < 16; c += L)
                s = widen(bytes(src, p + 2 + c).and((byte) 15).sub((byte) 8)).fma(FloatVector.fromArray(F, x, xb + c), s);
            for (int c = 0; c < 16; c += L)
                s = widen(high(bytes(src, p + 2 + c)).sub((byte) 8)).fma(FloatVector.fromArray(F, x, xb + 16 + c), s);
            FloatVector next = s.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p)), other);
            other = acc;
            acc = next;
        }
        acc.add(other).intoArray(lanes, 0);
    }

    /**
     * F16 and BF16 rows, converted in registers (F16: the exponent rebiased by a multiply by 2^112, which also makes
     * subnormals exact, infinities and NaNs set apart; BF16: the upper half of a float) into two accumulators that
     * take vectors in turn; the elements past the last pair of vectors are added to lane 0 in order. (F32 rows are
     * faster copied to a buffer and dotted there, the general path: 104 against 86 tokens/s generating on the 82M.)
     */
    static void halves(WeightFormat f, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector a = FloatVector.zero(F), b = a;
        int i = 0, bound = n - n % (2 * L);
        if (f instanceof Bf16) {
            for (; i < bound; i += 2 * L) {
                a = bf16(src, off + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a);
                b = bf16(src, off + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), b);
            }
        } else {
            for (; i < bound; i += 2 * L) {
                a = f16(src, off + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a);
                b = f16(src, off + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), b);
            }
        }
        a.add(b).intoArray(lanes, 0);
        float[] one = i < n ? new float[1] : null; // a tail only: rows are usually whole vector pairs
        for (; i < n; i++) {
            f.dequantize(src, off + 2L * i, 1, one, 0);
            lanes[0] += one[0] * x[xo + i];
        }
    }

    /** L BF16 values from byte p of src as floats. */
    private static FloatVector bf16(MemorySegment src, long p) {
        return (FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, src, p, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0);
    }

    /** L F16 values from byte p of src as floats (exact: normal, subnormal, infinite and NaN alike). */
    private static FloatVector f16(MemorySegment src, long p) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(H, src, p, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        IntVector em = h.and(0x7fff), shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector bits = ((IntVector) ((FloatVector) shifted.reinterpretShape(F, 0)).mul(0x1p112f).reinterpretShape(I, 0))
                .blend(shifted.or(0x7f800000), em.compare(VectorOperators.GE, 0x7c00));
        return (FloatVector) bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretShape(F, 0);
    }

    /** IQ4_NL's kvalues_iq4nl as bytes, a table for a byte permute when a vector has 16 lanes. */
    private static final ByteVector IQ4NL_BYTES = L == 16 ? ByteVector.fromArray(B, iq4nlBytes(), 0) : null;

    private static byte[] iq4nlBytes() {
        byte[] b = new byte[16];
        for (int c = 0; c < 16; c++) b[c] = (byte) GgmlQuants.KVALUES_IQ4NL[c];
        return b;
    }

    /** IQ4_NL's kvalues_iq4nl as floats, for lane permutes. */
    private static final float[] IQ4NL_VALUES = new float[16];

    static {
        for (int c = 0; c < 16; c++) IQ4NL_VALUES[c] = GgmlQuants.KVALUES_IQ4NL[c];
    }

    /**
     * IQ4_NL: {f16 d; u8 qs[16]} as Q4_0's nibbles, w_j = d·kvalues[qs[j] & 15], w_{j+16} = d·kvalues[qs[j] >> 4]: the
     * nibbles index the 16 values by a lane permute: with 16 lanes a byte permute of the values as bytes (they are
     * integers from −127 to 113), 1.3–1.5 times as fast as permuting floats; with 8, the floats, two vectors of 8
     * (converting the second half of a 16-byte permute to floats was slower). IQ4_XS (xs): super-blocks
     * {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]} of eight such groups of 32, group i's 16 bytes at qs[16i] and
     * its scale d·(ls − 32) from a 6-bit ls (4 bits of scales_l, 2 of scales_h), in lanes already ({@link #xsScales}).
     */
    static void iq4(boolean xs, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector t0 = FloatVector.fromArray(F, IQ4NL_VALUES, 0), t1 = L == 8 ? FloatVector.fromArray(F, IQ4NL_VALUES, 8) : t0;
        FloatVector acc = FloatVector.zero(F), other = acc;
        for (int b = 0; b < n / 32; b++) {
            long p = xs ? off + 136L * (b >> 3) + 8 + 16 * (b & 7) : off + 18L * b + 2;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < 16; c += L) {
                ByteVector q = bytes(src, p + c);
                if (L == 16) { // the 16 values are bytes: one byte permute of a 16-byte table
                    s = widen(q.and((byte) 15).selectFrom(IQ4NL_BYTES)).fma(FloatVector.fromArray(F, x, xb + c), s);
                    s = widen(high(q).selectFrom(IQ4NL_BYTES)).fma(FloatVector.fromArray(F, x, xb + 16 + c), s);
                } else {
                    FloatVector lo = widen(q.and((byte) 15)), hi = widen(high(q));
                    s = lo.selectFrom(t0, t1).fma(FloatVector.fromArray(F, x, xb + c), s);
                    s = hi.selectFrom(t0, t1).fma(FloatVector.fromArray(F, x, xb + 16 + c), s);
                }
            }
            FloatVector next = s.fma(FloatVector.broadcast(F, xs ? lanes[b] : GgmlQuants.f16(src, p - 2)), other);
            other = acc;
            acc = next;
        }
        acc.add(other).intoArray(lanes, 0);
    }

    /**
     * The scales d·(ls − 32) of an IQ4_XS row's groups of 32, into dst[0, n/32) (dequantize_row_iq4_xs): a super-block's
     * 8 in the first 8 of L byte lanes, lane i the nibble i of scales_l[4] and bits 2i, 2i + 1 of scales_h above it (the
     * lanes past 8 repeat them), converted and stored whole: the next super-block's store overwrites the repeats, and
     * the last one's stay within the scratch ({@link #scratch}: n/8 floats, at least n/32 + 16 from 256 values on).
     * xsScalesScalar is its twin.
     */
    static void xsScales(MemorySegment src, long off, int n, float[] dst) {
        if (L < 8 || L > 16) {
            xsScalesScalar(src, off, n, dst);
            return;
        }
        ByteVector low = ByteVector.fromArray(B, XS_LOW, 0), high = ByteVector.fromArray(B, XS_HIGH, 0);
        VectorMask<Byte> odd = VectorMask.fromArray(B, ODD_LANES, 0), by2 = VectorMask.fromArray(B, XS_BY2, 0),
                by4 = VectorMask.fromArray(B, XS_BY4, 0), by6 = VectorMask.fromArray(B, XS_BY6, 0);
        for (int b = 0; b < n / 256; b++) {
            long p = off + 136L * b;
            ByteVector q = bytes(src, p); // d, scales_h, scales_l, then qs
            ByteVector l = low.selectFrom(q), h = high.selectFrom(q);
            h = h.blend(h.lanewise(VectorOperators.LSHR, 2), by2).blend(h.lanewise(VectorOperators.LSHR, 4), by4)
                    .blend(h.lanewise(VectorOperators.LSHR, 6), by6);
            ByteVector v = l.and((byte) 15).blend(l.lanewise(VectorOperators.LSHR, 4), odd)
                    .or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
            widen(v).mul(GgmlQuants.f16(src, p)).intoArray(dst, 8 * b);
        }
    }

    private static final byte[] XS_LOW = {4, 4, 5, 5, 6, 6, 7, 7, 4, 4, 5, 5, 6, 6, 7, 7}, XS_HIGH = {2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3};
    private static final boolean[] XS_BY2 = {false, true, false, false, false, true, false, false, false, true, false, false, false, true, false, false};
    private static final boolean[] XS_BY4 = {false, false, true, false, false, false, true, false, false, false, true, false, false, false, true, false};
    private static final boolean[] XS_BY6 = {false, false, false, true, false, false, false, true, false, false, false, true, false, false, false, true};

    /** {@link #xsScales} a field at a time. */
    static void xsScalesScalar(MemorySegment src, long off, int n, float[] dst) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 136L * b;
            float d = GgmlQuants.f16(src, p);
            int h = src.get(LE32, p) >>> 16, l = src.get(LE32, p + 4);
            for (int i = 0; i < 8; i++) dst[8 * b + i] = d * ((l >>> 4 * i & 0xf | (h >>> 2 * i & 3) << 4) - 32);
        }
    }

    /** Q4_1: block {f16 d; f16 m; u8 qs[16]}, w_j = d·(qs[j] & 15) + m, w_{j+16} = d·(qs[j] >> 4) + m; Σ w·x = d·Σ q·x + m·Σ x. */
    static void q4_1(MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 20L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F), xs = s;
            for (int c = 0; c < 16; c += L) {
                ByteVector q = bytes(src, p + 4 + c);
                FloatVector a = FloatVector.fromArray(F, x, xb + c), h = FloatVector.fromArray(F, x, xb + 16 + c);
                s = widen(high(q)).fma(h, widen(q.and((byte) 15)).fma(a, s));
                xs = xs.add(a).add(h);
            }
            acc = s.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p)), acc);
            accMin = xs.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p + 2)), accMin);
        }
        acc.add(accMin).intoArray(lanes, 0);
    }

    /** 0 to 31, the bit of a Q5 block's qh for each of its elements. */
    private static final int[] IOTA = new int[32];

    static {
        for (int i = 0; i < 32; i++) IOTA[i] = i;
    }

    /**
     * Q5_0: block {f16 d; u32 qh; u8 qs[16]}, w_j = d·(q_j − 16); Q5_1 (withMin): {f16 d; f16 m; u32 qh; u8 qs[16]},
     * w_j = d·q_j + m. q_j is Q4's nibble with bit j of qh as its fifth bit (16), put in integer lanes by a shift of qh
     * by each lane's element index.
     */
    static void q5(boolean withMin, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        int stride = withMin ? 24 : 22;
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        for (int b = 0; b < n / 32; b++) {
            long p = off + (long) stride * b;
            int xb = xo + 32 * b;
            IntVector qh = IntVector.broadcast(I, src.get(LE32, p + stride - 20));
            FloatVector s = FloatVector.zero(F), xs = s;
            for (int c = 0; c < 16; c += L) {
                ByteVector q = bytes(src, p + stride - 16 + c);
                IntVector lo = widenInts(q.and((byte) 15)).or(bit(qh, c)), hi = widenInts(high(q)).or(bit(qh, c + 16));
                if (!withMin) {
                    lo = lo.sub(16);
                    hi = hi.sub(16);
                }
                FloatVector a = FloatVector.fromArray(F, x, xb + c), h = FloatVector.fromArray(F, x, xb + 16 + c);
                s = ((FloatVector) hi.convertShape(VectorOperators.I2F, F, 0)).fma(h, ((FloatVector) lo.convertShape(VectorOperators.I2F, F, 0)).fma(a, s));
                if (withMin) xs = xs.add(a).add(h);
            }
            acc = s.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p)), acc);
            if (withMin) accMin = xs.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p + 2)), accMin);
        }
        acc.add(accMin).intoArray(lanes, 0);
    }

    /** Bit e + i of qh (the same in every lane) as 16 or 0, in each lane i. */
    private static IntVector bit(IntVector qh, int e) {
        return qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, IOTA, e)).and(1).lanewise(VectorOperators.LSHL, 4);
    }

    /** L bytes to L ints. */
    private static IntVector widenInts(ByteVector v) {
        return (IntVector) v.convertShape(VectorOperators.B2I, I, 0);
    }

    /**
     * lowbit's nf4/fp4 blocks: {f32 scale; block/2 bytes} (scales null), or bitsandbytes' layout: the codes alone,
     * block/2 bytes a block (stride), with the scales from scales[s0 + b]. Byte j holds elements 2j (high nibble) and
     * 2j + 1, w = values[code]·scale; x split ({@link #split}): evens at xo, odds at xo + n/2. The nibbles index the
     * 16 values by a lane permute (one vector of 16 lanes or two of 8), so Σ w·x = Σ scale·(Σ value·x) per block.
     */
    static void fourBit(float[] values, int block, int stride, float[] scales, int s0, MemorySegment src, long off, int n, float[] x, int xo,
            float[] lanes) {
        int half = block / 2, codesAt = scales == null ? 4 : 0;
        FloatVector t0 = FloatVector.fromArray(F, values, 0), t1 = L == 8 ? FloatVector.fromArray(F, values, 8) : t0;
        FloatVector acc = FloatVector.zero(F), other = acc;
        for (int b = 0; b < n / block; b++) {
            long p = off + (long) stride * b;
            int xb = xo + half * b;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < half; c += L) {
                ByteVector q = bytes(src, p + codesAt + c);
                FloatVector hi = widen(high(q)), lo = widen(q.and((byte) 15));
                s = (L == 8 ? hi.selectFrom(t0, t1) : hi.selectFrom(t0)).fma(FloatVector.fromArray(F, x, xb + c), s);
                s = (L == 8 ? lo.selectFrom(t0, t1) : lo.selectFrom(t0)).fma(FloatVector.fromArray(F, x, xb + n / 2 + c), s);
            }
            FloatVector next = s.fma(FloatVector.broadcast(F, scales == null ? src.get(FourBitBlocks.F32, p) : scales[s0 + b]), other);
            other = acc;
            acc = next;
        }
        acc.add(other).intoArray(lanes, 0);
    }

    /**
     * Whether {@link #bnbFourBit} takes rows of cols values in blocks of block: whole blocks a row, of a whole number
     * of vectors' bytes.
     */
    public static boolean supportsBnb(int block, int cols) {
        return USABLE && block % 2 == 0 && cols % block == 0 && block / 2 % L == 0;
    }

    /**
     * The dot of x (laid out by {@link #split}) with the row of n values from element first of a tensor in
     * bitsandbytes' 4-bit layout (hf-bnb nf4/fp4): packed codes of the flattened tensor, element 2j in the high nibble
     * of byte j, one absmax per block; values is the codebook. first and n are whole blocks ({@link #supportsBnb}).
     */
    public static float bnbFourBit(float[] values, int block, MemorySegment packed, float[] absmax, long first, int n, float[] x, int xo, float[] lanes) {
        fourBit(values, block, block / 2, absmax, (int) (first / block), packed, first / 2, n, x, xo, lanes);
        return sum(lanes);
    }

    /**
     * lowbit's int4 groups: {f16 s; [u8 zero]; block/2 bytes}, byte j holding elements 2j (low nibble) and 2j + 1, w =
     * (code − zero)·s with zero 8 when symmetric; x split ({@link #split}): evens at xo, odds at xo + n/2. The zero is
     * subtracted in the byte lanes (exact), so Σ w·x = s·Σ (code − zero)·x per block, as Q4_0's.
     */
    static void int4(boolean asym, int block, int stride, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        int half = block / 2, codesAt = asym ? 3 : 2;
        FloatVector acc = FloatVector.zero(F), other = acc;
        for (int b = 0; b < n / block; b++) {
            long p = off + (long) stride * b;
            int xb = xo + half * b;
            byte zero = asym ? src.get(ValueLayout.JAVA_BYTE, p + 2) : 8;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < half; c += L) {
                ByteVector q = bytes(src, p + codesAt + c);
                s = widen(q.and((byte) 15).sub(zero)).fma(FloatVector.fromArray(F, x, xb + c), s);
                s = widen(high(q).sub(zero)).fma(FloatVector.fromArray(F, x, xb + n / 2 + c), s);
            }
            FloatVector next = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(src.get(F16.LE, p))), other);
            other = acc;
            acc = next;
        }
        acc.add(other).intoArray(lanes, 0);
    }

    /**
     * Q4_0 values decoded in vector lanes, d·(q − 8) as {@link Q4_0#dequantizeScalar} computes them (the nibble minus 8
     * is exact in a byte and as a float, then one rounding in the multiply): prompt processing decodes every weight
     * once per batch of tokens, and the scalar loop was 6 % of a Q4_0 run.
     */
    static void q4_0Rows(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            int y = dstOff + 32 * b;
            FloatVector d = FloatVector.broadcast(F, GgmlQuants.f16(src, p));
            for (int c = 0; c < 16; c += L) {
                ByteVector q = bytes(src, p + 2 + c);
                widen(q.and((byte) 15).sub((byte) 8)).mul(d).intoArray(dst, y + c);
                widen(high(q).sub((byte) 8)).mul(d).intoArray(dst, y + 16 + c);
            }
        }
    }

    /**
     * The signed value of largest magnitude of the 32 values from src[x], the first of them (quantize_row_q4_0_ref's
     * and q5_0's max), given their {@link #absMax32}; 0 when that is 0 or a NaN (which equals nothing).
     */
    static float signedAbsMax32(float[] src, int x, float amax) {
        for (int c = 0; amax != 0 && c < 32; c += L) {
            VectorMask<Float> at = FloatVector.fromArray(F, src, x + c).abs().compare(VectorOperators.EQ, amax);
            if (at.anyTrue()) return src[x + c + at.firstTrue()];
        }
        return 0f;
    }

    /**
     * The least (most = false: the greatest) of the 32 values from src[x] in vector lanes, or NaN where that may not be
     * the value quantize_row_q4_1_ref's and q5_1's loops find (the first below, or above, all before it, from ±FLT_MAX):
     * a zero (−0 and +0 tie), an infinity or a NaN. The caller encodes such a block with its scalar loop.
     */
    static float extreme32(float[] src, int x, boolean least) {
        // The loop-carried e is only an argument (min and max commute exactly) and is read after the loop through a copy
        // (a blend on a fresh vector): an operation called on it is inlined only from its call site's type profile,
        // and about one 1.1B Q4_1 export in 6 ran this on allocated vectors (13 GB of float[], 4.4 s against 2.1-2.4).
        FloatVector e = FloatVector.fromArray(F, src, x);
        for (int c = L; c < 32; c += L) {
            FloatVector v = FloatVector.fromArray(F, src, x + c);
            e = least ? v.min(e) : v.max(e);
        }
        FloatVector all = FloatVector.zero(F).blend(e, F.maskAll(true));
        float r = least ? all.reduceLanes(VectorOperators.MIN) : all.reduceLanes(VectorOperators.MAX);
        return r == 0 || !Float.isFinite(r) ? Float.NaN : r;
    }

    /**
     * The 5-bit quants of the Q5_0 or Q5_1 block of 32 at src[x]: q = the low 8 bits of (int) ((v − sub)·id + add),
     * min 31 when clamp (Q5_0), each step rounded as the reference's; low nibbles stored at dst[qs ..] as element j's
     * | element j + 16's << 4, bit 4 returned as qh (bit j for element j). Only arrays and scalars cross this method's
     * boundary: a vector argument of a method C2 compiles on its own is boxed.
     */
    static int q5Block(float[] src, int x, float sub, float id, float add, boolean clamp, byte[] dst, int qs) {
        int qh = 0;
        for (int c = 0; c < 16; c += L) {
            ByteVector lo = (ByteVector) ((IntVector) FloatVector.fromArray(F, src, x + c).sub(sub).mul(id).add(add)
                    .convertShape(VectorOperators.F2I, I, 0)).convertShape(VectorOperators.I2B, B, 0);
            ByteVector hi = (ByteVector) ((IntVector) FloatVector.fromArray(F, src, x + 16 + c).sub(sub).mul(id).add(add)
                    .convertShape(VectorOperators.F2I, I, 0)).convertShape(VectorOperators.I2B, B, 0);
            if (clamp) {
                lo = lo.min((byte) 31);
                hi = hi.min((byte) 31);
            }
            lo.and((byte) 15).or(hi.and((byte) 15).lanewise(VectorOperators.LSHL, 4)).intoArray(dst, qs + c);
            long l = lo.and((byte) 0x10).compare(VectorOperators.NE, 0).toLong(), h = hi.and((byte) 0x10).compare(VectorOperators.NE, 0).toLong();
            qh |= (int) (l << c | h << (16 + c));
        }
        return qh;
    }

    /**
     * The final quants of a K-quant group of 16 from src[x] with scale d, as the reference's loop
     * (MAX(−half, MIN(half − 1, nearest_int(x / d))) + half), L values at a time into q[lo ..]: Q3_K (half 4), Q6_K (32).
     */
    static void groupQuants(float[] src, int x, float d, int half, int[] q, int lo) {
        for (int c = 0; c < 16; c += L)
            ((IntVector) FloatVector.fromArray(F, src, x + c).div(d).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff)
                    .sub(0x00400000).max(-half).min(half - 1).add(half).intoArray(q, lo + c);
    }

    /**
     * The final quants of an asymmetric K-quant group of n (a multiple of L) from src[x] with scale d and min dm, L
     * values at a time: {@link GgmlQuants#groupQuantsMin}'s loop, the same ints. Q2_K (16, nmax 3), Q4_K (32, 15),
     * Q5_K (32, 31).
     */
    static void groupQuantsMin(float[] src, int x, int n, float d, float dm, int nmax, int[] q, int lo) {
        for (int c = 0; c < n; c += L)
            ((IntVector) FloatVector.fromArray(F, src, x + c).add(dm).div(d).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff)
                    .sub(0x00400000).max(0).min(nmax).intoArray(q, lo + c);
    }

    /** {@link GgmlQuants#absMax} of the 32 values from src[x], in vector lanes: the max of their magnitude bits. */
    static float absMax32(float[] src, int x) {
        IntVector bits = IntVector.zero(I); // loop-carried: only an argument, read through a copy (as extreme32)
        for (int c = 0; c < 32; c += L) bits = ((IntVector) FloatVector.fromArray(F, src, x + c).reinterpretShape(I, 0)).and(0x7fffffff).max(bits);
        return Float.intBitsToFloat(IntVector.zero(I).blend(bits, I.maskAll(true)).reduceLanes(VectorOperators.MAX));
    }

    /** Q8_0: block {f16 d; i8 qs[32]}, w_j = d·qs[j]. */
    static void q8_0(MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(F), other = acc;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < 32; c += L) s = widen(bytes(src, p + 2 + c)).fma(FloatVector.fromArray(F, x, xb + c), s);
            FloatVector next = s.fma(FloatVector.broadcast(F, GgmlQuants.f16(src, p)), other);
            other = acc;
            acc = next;
        }
        acc.add(other).intoArray(lanes, 0);
    }

    /**
     * Q4_K: super-block {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}; for pair j < 4 the low nibbles of qs[32j ..
     * 32j+31] are values 64j .. 64j+31 with (d·sc[2j], dmin·m[2j]), the high nibbles the next 32 with sc/m[2j+1];
     * w = d·sc·q − dmin·m. So Σ w·x = d·sc·Σ q·x − dmin·m·Σ x per group of 32. Q5_K (five): {f16 d; f16 dmin; u8
     * scales[12]; u8 qh[32]; u8 qs[128]}, the same with a fifth bit (16) from qh[l]: bit 2j for value 64j + l, bit
     * 2j + 1 for 64j + 32 + l. The row's scales and mins are in lanes already ({@link #k4Scales}), and one flat loop
     * runs over its pairs of groups: with a loop per super-block and one per pair inside it, C2 set up bounds checks at
     * each entry of the short inner loops and re-read the scale bits per pair, and the row took 1.3–1.5 times as long
     * (7.5 against 11 billion weights/s on one core, 512-bit vectors; 8 against 9.7 with 256-bit).
     */
    static void qk(boolean five, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        int stride = five ? 176 : 144, qsAt = five ? 48 : 16;
        FloatVector acc = FloatVector.zero(F), accMin = acc, acc2 = acc, accMin2 = acc;
        for (int g = 0; g < n / 64; g++) {
            int j = g & 3;
            long p = off + (long) stride * (g >> 2), q = p + qsAt + 32L * j;
            int lo = xo + 64 * g, hi = lo + 32;
            FloatVector sLo = FloatVector.zero(F), sHi = sLo, xLo = sLo, xHi = sLo;
            for (int c = 0; c < 32; c += L) {
                ByteVector qs = bytes(src, q + c), ql = qs.and((byte) 15), qu = high(qs);
                if (five) {
                    ByteVector hb = bytes(src, p + 16 + c);
                    ql = ql.or(bitTo(hb, 2 * j, 4));
                    qu = qu.or(bitTo(hb, 2 * j + 1, 4));
                }
                FloatVector a = FloatVector.fromArray(F, x, lo + c), h = FloatVector.fromArray(F, x, hi + c);
                sLo = widen(ql).fma(a, sLo);
                sHi = widen(qu).fma(h, sHi);
                xLo = xLo.add(a);
                xHi = xHi.add(h);
            }
            acc = sLo.fma(FloatVector.broadcast(F, lanes[4 * g]), acc);
            accMin = xLo.fma(FloatVector.broadcast(F, lanes[4 * g + 1]), accMin);
            acc2 = sHi.fma(FloatVector.broadcast(F, lanes[4 * g + 2]), acc2);
            accMin2 = xHi.fma(FloatVector.broadcast(F, lanes[4 * g + 3]), accMin2);
        }
        acc.add(accMin).add(acc2.add(accMin2)).intoArray(lanes, 0);
    }

    /** Bit s of each byte of v moved to bit t (both below 8), the others 0: shifts of 16-bit lanes and a mask. */
    private static ByteVector bitTo(ByteVector v, int s, int t) {
        return ((ByteVector) ((ShortVector) v.reinterpretShape(HB, 0)).lanewise(VectorOperators.LSHR, s).lanewise(VectorOperators.LSHL, t).reinterpretShape(B, 0)).and((byte) (1 << t));
    }

    /** Bits s and s + 1 of each byte of v, 0 to 3. */
    private static ByteVector crumbs(ByteVector v, int s) {
        return ((ByteVector) ((ShortVector) v.reinterpretShape(HB, 0)).lanewise(VectorOperators.LSHR, s).reinterpretShape(B, 0)).and((byte) 3);
    }

    /**
     * Q2_K: super-block {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}, w = d·(sc & 15)·q − dmin·(sc >> 4) per group of
     * 16; Q3_K (three): {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}, w = d·(sc − 32)·(q − 4 + 4·h), sc 6-bit
     * (dequantize_row_q3_K), h a bit of hmask. In both, half h (128 values) takes the 32 bytes qs[32h ..] four times, bits 2j
     * and 2j + 1 for its values 32j .. 32j + 31, which are two groups of 16 (Q3_K's h: bit 4h + j of hmask[l]). One
     * flat loop over those 32 values at a time (dequantize_row_q2_K and _q3_K's order); the scales are in lanes
     * already ({@link #k2Scales}, {@link #k3Scales}).
     */
    static void lowBits(boolean three, MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        int stride = three ? 110 : 84, qsAt = three ? 32 : 16;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, accMin0 = acc0, accMin1 = acc0;
        for (int u = 0; u < n / 32; u++) {
            int half = u >> 2 & 1, j = u & 3;
            long p = off + (long) stride * (u >> 3), q = p + qsAt + 32 * half;
            int xu = xo + 32 * u;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, x0 = s0, x1 = s0;
            for (int c = 0; c < 16; c += L) {
                ByteVector a = crumbs(bytes(src, q + c), 2 * j), b = crumbs(bytes(src, q + 16 + c), 2 * j);
                if (three) {
                    a = a.or(bitTo(bytes(src, p + c), 4 * half + j, 2)).sub((byte) 4);
                    b = b.or(bitTo(bytes(src, p + 16 + c), 4 * half + j, 2)).sub((byte) 4);
                }
                FloatVector xa = FloatVector.fromArray(F, x, xu + c), xb = FloatVector.fromArray(F, x, xu + 16 + c);
                s0 = widen(a).fma(xa, s0);
                s1 = widen(b).fma(xb, s1);
                if (!three) {
                    x0 = x0.add(xa);
                    x1 = x1.add(xb);
                }
            }
            if (three) {
                acc0 = s0.fma(FloatVector.broadcast(F, lanes[2 * u]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, lanes[2 * u + 1]), acc1);
            } else {
                acc0 = s0.fma(FloatVector.broadcast(F, lanes[4 * u]), acc0);
                accMin0 = x0.fma(FloatVector.broadcast(F, lanes[4 * u + 1]), accMin0);
                acc1 = s1.fma(FloatVector.broadcast(F, lanes[4 * u + 2]), acc1);
                accMin1 = x1.fma(FloatVector.broadcast(F, lanes[4 * u + 3]), accMin1);
            }
        }
        acc0.add(accMin0).add(acc1.add(accMin1)).intoArray(lanes, 0);
    }

    /**
     * A Q2_K row's d·(sc & 15) and −dmin·(sc >> 4) of its group i of 16 at dst[2i] and dst[2i + 1]: a super-block's 32 as
     * two vectors of 16 byte lanes, lane k the low or high nibble of scales[k / 2]. k2ScalesScalar is its twin.
     */
    static void k2Scales(MemorySegment src, long off, int n, float[] dst) {
        if (L > 16) {
            k2ScalesScalar(src, off, n, dst);
            return;
        }
        VectorMask<Byte> odd = VectorMask.fromArray(B16, ODD_LANES, 0);
        VectorMask<Float> oddF = VectorMask.fromArray(F, ODD_LANES, 0);
        for (int b = 0; b < n / 256; b++) {
            long p = off + 84L * b;
            FloatVector dm = FloatVector.broadcast(F, GgmlQuants.f16(src, p + 80)).blend(-GgmlQuants.f16(src, p + 82), oddF);
            ByteVector q = ByteVector.fromMemorySegment(B16, src, p, ByteOrder.LITTLE_ENDIAN);
            for (int half = 0; half < 2; half++) {
                ByteVector a = ByteVector.fromArray(B16, K2_PAIRS, 16 * half).selectFrom(q);
                ByteVector v = a.and((byte) 15).blend(a.lanewise(VectorOperators.LSHR, 4), odd);
                for (int part = 0; part < 16 / L; part++)
                    ((FloatVector) v.convertShape(VectorOperators.B2F, F, part)).mul(dm).intoArray(dst, 32 * b + 16 * half + part * L);
            }
        }
    }

    private static final byte[] K2_PAIRS = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15};

    /** {@link #k2Scales} a field at a time. */
    static void k2ScalesScalar(MemorySegment src, long off, int n, float[] dst) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 84L * b;
            float d = GgmlQuants.f16(src, p + 80), dmin = -GgmlQuants.f16(src, p + 82);
            for (int i = 0; i < 16; i++) {
                int sc = GgmlQuants.u8(src, p + i);
                dst[32 * b + 2 * i] = d * (sc & 15);
                dst[32 * b + 2 * i + 1] = dmin * (sc >> 4);
            }
        }
    }

    /**
     * A Q3_K row's d·(sc − 32) of its group i of 16 at dst[i], sc unpacked as dequantize_row_q3_K does: one vector of 16
     * byte lanes, lane i the low (i < 8) or high nibble of scales[i mod 8] and bits 2(i / 4), 2(i / 4) + 1 of
     * scales[8 + i mod 4] above it. k3ScalesScalar is its twin.
     */
    static void k3Scales(MemorySegment src, long off, int n, float[] dst) {
        if (L > 16) {
            k3ScalesScalar(src, off, n, dst);
            return;
        }
        ByteVector low = ByteVector.fromArray(B16, K3_LOW, 0), high = ByteVector.fromArray(B16, K3_HIGH, 0);
        VectorMask<Byte> upper = VectorMask.fromArray(B16, K3_UPPER, 0), by2 = VectorMask.fromArray(B16, K3_BY2, 0),
                by4 = VectorMask.fromArray(B16, K3_BY4, 0), by6 = VectorMask.fromArray(B16, K3_BY6, 0);
        for (int b = 0; b < n / 256; b++) {
            long p = off + 110L * b;
            float d = GgmlQuants.f16(src, p + 108);
            // the last 2 bytes of qs, scales[12] and d: 16 bytes that end with the super-block
            ByteVector q = ByteVector.fromMemorySegment(B16, src, p + 94, ByteOrder.LITTLE_ENDIAN);
            ByteVector a = low.selectFrom(q), h = high.selectFrom(q);
            h = h.blend(h.lanewise(VectorOperators.LSHR, 2), by2).blend(h.lanewise(VectorOperators.LSHR, 4), by4)
                    .blend(h.lanewise(VectorOperators.LSHR, 6), by6);
            ByteVector v = a.and((byte) 15).blend(a.lanewise(VectorOperators.LSHR, 4), upper)
                    .or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
            for (int part = 0; part < 16 / L; part++)
                ((FloatVector) v.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(dst, 16 * b + part * L);
        }
    }

    private static final byte[] K3_LOW = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 8, 9};
    private static final byte[] K3_HIGH = {10, 11, 12, 13, 10, 11, 12, 13, 10, 11, 12, 13, 10, 11, 12, 13};
    private static final boolean[] K3_UPPER = {false, false, false, false, false, false, false, false, true, true, true, true, true, true, true, true};
    private static final boolean[] K3_BY2 = {false, false, false, false, true, true, true, true, false, false, false, false, false, false, false, false};
    private static final boolean[] K3_BY4 = {false, false, false, false, false, false, false, false, true, true, true, true, false, false, false, false};
    private static final boolean[] K3_BY6 = {false, false, false, false, false, false, false, false, false, false, false, false, true, true, true, true};

    /**
     * {@link #k3Scales} a field at a time, the 12 bytes read as a long and an int. (Read byte by byte, as Q3_K.dequantize
     * does, this loop's bounds checks went back to the interpreter again and again: C2's predicate from the profile kept
     * failing, a hundred deoptimizations a second.)
     */
    static void k3ScalesScalar(MemorySegment src, long off, int n, float[] dst) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 110L * b;
            float d = GgmlQuants.f16(src, p + 108);
            long a = src.get(LE64, p + 96);
            int c = src.get(LE32, p + 104);
            for (int i = 0; i < 8; i++) {
                int hi = c >>> 8 * (i % 4) + 2 * (i / 4) & 3, hi2 = c >>> 8 * (i % 4) + 2 * (i / 4 + 2) & 3;
                dst[16 * b + i] = d * (((int) (a >>> 8 * i) & 15 | hi << 4) - 32);
                dst[16 * b + 8 + i] = d * (((int) (a >>> 8 * i + 4) & 15 | hi2 << 4) - 32);
            }
        }
    }

    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * The 6-bit scales and mins of a Q4_K or Q5_K row (super-blocks of stride bytes), as d·sc and −dmin·m at dst[2i]
     * and dst[2i + 1] for its group i of 32 (get_scale_min_k4). A super-block's 16 values are one vector of 16 byte
     * lanes: lane k takes byte K4_LOW[k] of scales[12] (its low 6 bits, or for k ≥ 8 its low or high 4 bits) and, for
     * k ≥ 8, the top 2 bits of byte K4_HIGH[k] above them; then converted and multiplied by d or −dmin. Decoded a field
     * at a time in scalar code (k4ScalesScalar, its twin) this took about 40 % of a Q4_K row's dot.
     */
    static void k4Scales(MemorySegment src, long off, int stride, int n, float[] dst) {
        if (L > 16) {
            k4ScalesScalar(src, off, stride, n, dst);
            return;
        }
        ByteVector low = ByteVector.fromArray(B16, K4_LOW, 0), high = ByteVector.fromArray(B16, K4_HIGH, 0);
        ByteVector lowMask = ByteVector.fromArray(B16, K4_LOW_MASK, 0), highMask = ByteVector.fromArray(B16, K4_HIGH_MASK, 0);
        VectorMask<Byte> nibble = VectorMask.fromArray(B16, K4_HIGH_NIBBLE, 0);
        VectorMask<Float> odd = VectorMask.fromArray(F, ODD_LANES, 0);
        for (int b = 0; b < n / 256; b++) {
            long p = off + (long) stride * b;
            float d = GgmlQuants.f16(src, p), dmin = -GgmlQuants.f16(src, p + 2);
            // scales[12] and the first 4 bytes of qs, which no lane takes
            ByteVector q = ByteVector.fromMemorySegment(B16, src, p + 4, ByteOrder.LITTLE_ENDIAN);
            ByteVector a = low.selectFrom(q), h = high.selectFrom(q);
            ByteVector v = a.and(lowMask).blend(a.lanewise(VectorOperators.LSHR, 4), nibble)
                    .or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4).and(highMask));
            FloatVector dm = FloatVector.broadcast(F, d).blend(dmin, odd);
            for (int part = 0; part < 16 / L; part++)
                ((FloatVector) v.convertShape(VectorOperators.B2F, F, part)).mul(dm).intoArray(dst, 16 * b + part * L);
        }
    }

    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final byte[] K4_LOW = {0, 4, 1, 5, 2, 6, 3, 7, 8, 8, 9, 9, 10, 10, 11, 11};
    private static final byte[] K4_HIGH = {0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 5, 2, 6, 3, 7};
    private static final byte[] K4_LOW_MASK = {63, 63, 63, 63, 63, 63, 63, 63, 15, 15, 15, 15, 15, 15, 15, 15};
    private static final byte[] K4_HIGH_MASK = {0, 0, 0, 0, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30};
    private static final boolean[] K4_HIGH_NIBBLE = {false, false, false, false, false, false, false, false, false, true, false, true, false, true, false, true};
    private static final boolean[] ODD_LANES = new boolean[Math.max(L, 16)];
    static {
        for (int i = 1; i < ODD_LANES.length; i += 2) ODD_LANES[i] = true;
    }

    /** {@link #k4Scales} a field at a time. */
    static void k4ScalesScalar(MemorySegment src, long off, int stride, int n, float[] dst) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + (long) stride * b;
            float d = GgmlQuants.f16(src, p), dmin = -GgmlQuants.f16(src, p + 2);
            long a = src.get(LE64, p + 4);
            int c = src.get(LE32, p + 12);
            for (int i = 0; i < 4; i++) {
                int lo = (int) (a >>> 8 * i) & 0xff, hi = (int) (a >>> 8 * i + 32) & 0xff, e = c >>> 8 * i & 0xff;
                dst[16 * b + 2 * i] = d * (lo & 63);
                dst[16 * b + 2 * i + 1] = dmin * (hi & 63);
                dst[16 * b + 8 + 2 * i] = d * (e & 15 | lo >> 6 << 4);
                dst[16 * b + 9 + 2 * i] = dmin * (e >> 4 | hi >> 6 << 4);
            }
        }
    }

    /**
     * Q6_K: super-block {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}; in half h (128 values), for l < 32, the four
     * values l, l+32, l+64, l+96 are (ql[l] & 15, ql[l+32] & 15, ql[l] >> 4, ql[l+32] >> 4) with bits 0-1, 2-3, 4-5,
     * 6-7 of qh[l] above them, minus 32, each group of 16 with its scale (dequantize_row_q6_K). So Σ w·x = Σ over the
     * 16 groups of d·scale·Σ q·x.
     */
    static void q6_k(MemorySegment src, long off, int n, float[] x, int xo, float[] lanes) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + 210L * b;
            float d = GgmlQuants.f16(src, p + 208);
            for (int h = 0; h < 2; h++) {
                long ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h;
                int xh = xo + 256 * b + 128 * h;
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                    for (int l = l0; l < l0 + 16; l += L) {
                        ByteVector a = bytes(src, ql + l);
                        ByteVector c = bytes(src, ql + l + 32);
                        ByteVector hb = bytes(src, qh + l);
                        ByteVector q1 = a.and((byte) 15).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                        ByteVector q2 = c.and((byte) 15).or(hb.and((byte) 12).lanewise(VectorOperators.LSHL, 2)).sub((byte) 32);
                        ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(hb.and((byte) 48)).sub((byte) 32);
                        ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4))
                                .sub((byte) 32);
                        s0 = widen(q1).fma(FloatVector.fromArray(F, x, xh + l), s0);
                        s1 = widen(q2).fma(FloatVector.fromArray(F, x, xh + l + 32), s1);
                        s2 = widen(q3).fma(FloatVector.fromArray(F, x, xh + l + 64), s2);
                        s3 = widen(q4).fma(FloatVector.fromArray(F, x, xh + l + 96), s3);
                    }
                    int is = l0 / 16;
                    acc0 = s0.fma(FloatVector.broadcast(F, d * src.get(ValueLayout.JAVA_BYTE, sc + is)), acc0);
                    acc1 = s1.fma(FloatVector.broadcast(F, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2)), acc1);
                    acc2 = s2.fma(FloatVector.broadcast(F, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4)), acc2);
                    acc3 = s3.fma(FloatVector.broadcast(F, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6)), acc3);
                }
            }
        }
        acc0.add(acc1).add(acc2.add(acc3)).intoArray(lanes, 0);
    }

    /** L bytes of src from byte offset p. */
    private static ByteVector bytes(MemorySegment src, long p) {
        return ByteVector.fromMemorySegment(B, src, p, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The high nibbles of q's bytes, 0 to 15: a shift of 16-bit lanes and a mask, two instructions, where a byte shift
     * (x86 has none) took five; Q4_0 dots 1.1–1.2 times as fast. (Q6_K keeps the byte shift: with this its dot ran at a
     * third of the speed.)
     */
    private static ByteVector high(ByteVector q) {
        return ((ByteVector) ((ShortVector) q.reinterpretShape(HB, 0)).lanewise(VectorOperators.LSHR, 4).reinterpretShape(B, 0)).and((byte) 15);
    }

    /** L signed bytes to L floats. */
    private static FloatVector widen(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * The sum of lanes[0, L) in a fixed tree, ((v0+v4)+(v2+v6))+((v1+v5)+(v3+v7)) for eight lanes (sixteen: each v_i
     * is v_i + v_{i+8} first), added as scalars: the same float compiled or interpreted. (The lanes are stored by one
     * vector store; the rotate-and-add steps in registers were a chain of dependent shuffles as long as a dot of 16
     * blocks, and a vector returned from a method C2 does not inline is boxed.)
     */
    static float sum(float[] v) {
        if (L == 16)
            return (((v[0] + v[8]) + (v[4] + v[12])) + ((v[2] + v[10]) + (v[6] + v[14])))
                    + (((v[1] + v[9]) + (v[5] + v[13])) + ((v[3] + v[11]) + (v[7] + v[15])));
        return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    }
}
