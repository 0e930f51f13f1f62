package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector API kernels, written once over the preferred species: several accumulators, a vector loop, a scalar tail. */
public final class PanamaOps implements VectorOps {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int L = F.length();
    static final int W = 2 * L;
    private static final float[] RAMP = new float[L];

    static {
        for (int i = 0; i < L; i++) RAMP[i] = i;
    }
    private final ScalarOps scalar = new ScalarOps();

    public int panelRows() {
        return 2 * L;
    }

    public void matmulPanel(float[] x, int xOff, int tokens, int cols, float[] panel, int panelOff, int rows, float[] out, int outOff, int outStride) {
        float[] tmp = new float[6 * 2 * L];
        for (int t = 0; t < tokens; t += 6) {
            int tn = Math.min(6, tokens - t);
            if (tn == 6 && rows == 2 * L) { // a whole tile: its rows go straight to out
                tile6(x, xOff + t * cols, cols, panel, panelOff, out, outOff + t * outStride, outStride);
                continue;
            }
            if (tn == 6) tile6(x, xOff + t * cols, cols, panel, panelOff, tmp, 0, 2 * L);
            else if (tn == 1) tile1(x, xOff + t * cols, cols, panel, panelOff, tmp, 0);
            else tile6(padded(x, xOff + t * cols, tn, cols), 0, cols, panel, panelOff, tmp, 0, 2 * L);
            for (int u = 0; u < tn; u++) System.arraycopy(tmp, u * 2 * L, out, outOff + (t + u) * outStride, rows);
        }
    }

    /**
     * {@link ScalarOps#toPanel}'s sixteen-column blocks moved as 4 × 4 tiles: four rows' four floats loaded as 128-bit
     * vectors, transposed in registers by eight two-vector selects, stored as four panel rows (a data move, the same at
     * every vector width). 0.28 and 0.32 against 0.40 and 0.44 ns per element for rows of 768 and 2048 floats (AVX-512);
     * 0.36 against 0.69 and 0.52 against 0.41 with AVX2.
     */
    public void toPanel(float[] rowsMajor, int rn, int cols, int width, float[] panel) {
        int r4 = rn & ~3, k16 = cols & ~15;
        for (int k0 = 0; k0 < k16; k0 += 16)
            for (int r = 0; r < r4; r += 4)
                for (int k = k0; k < k0 + 16; k += 4) transpose4(rowsMajor, r * cols + k, cols, panel, k * width + r, width);
        ScalarOps.panelRest(rowsMajor, rn, cols, width, panel, r4, k16);
    }

    /** src rows i < 4 at src + i·cols, four floats each, to dst + j·width for column j. */
    private static void transpose4(float[] src, int s, int cols, float[] dst, int d, int width) {
        FloatVector a = FloatVector.fromArray(F4, src, s), b = FloatVector.fromArray(F4, src, s + cols),
                c = FloatVector.fromArray(F4, src, s + 2 * cols), e = FloatVector.fromArray(F4, src, s + 3 * cols);
        FloatVector ab01 = PAIR_LO.selectFrom(a, b), ab23 = PAIR_HI.selectFrom(a, b), ce01 = PAIR_LO.selectFrom(c, e), ce23 = PAIR_HI.selectFrom(c, e);
        HALF_LO.selectFrom(ab01, ce01).intoArray(dst, d);
        HALF_HI.selectFrom(ab01, ce01).intoArray(dst, d + width);
        HALF_LO.selectFrom(ab23, ce23).intoArray(dst, d + 2 * width);
        HALF_HI.selectFrom(ab23, ce23).intoArray(dst, d + 3 * width);
    }

    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /** Lane indexes into two vectors (4 and up: the second): (a0 b0 a1 b1), (a2 b2 a3 b3), then (x0 x1 y0 y1), (x2 x3 y2 y3). */
    private static final FloatVector PAIR_LO = FloatVector.fromArray(F4, new float[] {0, 4, 1, 5}, 0),
            PAIR_HI = FloatVector.fromArray(F4, new float[] {2, 6, 3, 7}, 0),
            HALF_LO = FloatVector.fromArray(F4, new float[] {0, 1, 4, 5}, 0),
            HALF_HI = FloatVector.fromArray(F4, new float[] {2, 3, 6, 7}, 0);

    /**
     * The last 2 to 5 rows of x padded with zero rows to six: one 6-row tile is faster than tile1 per row, whose two
     * accumulators wait on the FMA latency. Each row's sums are the same floats either way.
     */
    private static float[] padded(float[] x, int off, int n, int cols) {
        float[] rows6 = PADDED.get();
        if (rows6 == null || rows6.length < 6 * cols) PADDED.set(rows6 = new float[6 * cols]);
        System.arraycopy(x, off, rows6, 0, n * cols);
        Arrays.fill(rows6, n * cols, 6 * cols, 0f);
        return rows6;
    }

    private static final ThreadLocal<float[]> PADDED = new ThreadLocal<>();

    /**
     * 6 tokens × 2 vectors of rows: 12 accumulators fed by 2 panel loads and 6 broadcasts per step of k; token u's
     * 2·L sums are stored at dst[dOff + u·stride].
     */
    private static void tile6(float[] x, int xo, int n, float[] p, int po, float[] dst, int dOff, int stride) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int k = 0; k < n; k++) {
            FloatVector p0 = FloatVector.fromArray(F, p, po + k * W), p1 = FloatVector.fromArray(F, p, po + k * W + L);
            FloatVector b = FloatVector.broadcast(F, x[xo + k]);
            c00 = b.fma(p0, c00); c01 = b.fma(p1, c01);
            b = FloatVector.broadcast(F, x[xo + n + k]);
            c10 = b.fma(p0, c10); c11 = b.fma(p1, c11);
            b = FloatVector.broadcast(F, x[xo + 2 * n + k]);
            c20 = b.fma(p0, c20); c21 = b.fma(p1, c21);
            b = FloatVector.broadcast(F, x[xo + 3 * n + k]);
            c30 = b.fma(p0, c30); c31 = b.fma(p1, c31);
            b = FloatVector.broadcast(F, x[xo + 4 * n + k]);
            c40 = b.fma(p0, c40); c41 = b.fma(p1, c41);
            b = FloatVector.broadcast(F, x[xo + 5 * n + k]);
            c50 = b.fma(p0, c50); c51 = b.fma(p1, c51);
        }
        c00.intoArray(dst, dOff); c01.intoArray(dst, dOff + L);
        c10.intoArray(dst, dOff + stride); c11.intoArray(dst, dOff + stride + L);
        c20.intoArray(dst, dOff + 2 * stride); c21.intoArray(dst, dOff + 2 * stride + L);
        c30.intoArray(dst, dOff + 3 * stride); c31.intoArray(dst, dOff + 3 * stride + L);
        c40.intoArray(dst, dOff + 4 * stride); c41.intoArray(dst, dOff + 4 * stride + L);
        c50.intoArray(dst, dOff + 5 * stride); c51.intoArray(dst, dOff + 5 * stride + L);
    }

    private static void tile1(float[] x, int xo, int n, float[] p, int po, float[] tmp, int to) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        for (int k = 0; k < n; k++) {
            FloatVector b = FloatVector.broadcast(F, x[xo + k]);
            c0 = b.fma(FloatVector.fromArray(F, p, po + k * W), c0);
            c1 = b.fma(FloatVector.fromArray(F, p, po + k * W + L), c1);
        }
        c0.intoArray(tmp, to);
        c1.intoArray(tmp, to + L);
    }

    /**
     * Lanes summed in a fixed order. reduceLanes(ADD) may sum in another order once compiled than in the interpreter,
     * which would make the same forward pass differ in the last bits before and after warm-up. With eight lanes,
     * ((v0+v4)+(v2+v6))+((v1+v5)+(v3+v7)) from three rotate-and-add steps written out (the tree of BlockDots.sum; a
     * loop would carry the vector through a phi, which C2 boxes, and lane(i) with a variable i is not intrinsified); with
     * sixteen, one more step (rotate by eight) first. Other lane counts add lane by lane from an array, which allocates
     * when escape analysis fails.
     */
    static float sum(FloatVector v) {
        if (L != 8 && L != 16) return sumOfArray(v);
        if (L == 16) v = v.add(v.rearrange(ROT8));
        v = v.add(v.rearrange(ROT4));
        v = v.add(v.rearrange(ROT2));
        return v.add(v.rearrange(ROT1)).lane(0);
    }

    private static float sumOfArray(FloatVector v) {
        float s = 0;
        for (float x : v.toArray()) s += x;
        return s;
    }

    private static final VectorShuffle<Float> ROT8 = VectorShuffle.iota(F, 8, 1, true), ROT4 = VectorShuffle.iota(F, 4, 1, true),
            ROT2 = VectorShuffle.iota(F, 2, 1, true), ROT1 = VectorShuffle.iota(F, 1, 1, true);

    /** 1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer, which lands in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;

    /**
     * e^x from add, multiply and fma only (exactly rounded everywhere, unlike the EXP operator, whose compiled and
     * interpreted forms differ): x = k·ln2 + r with |r| ≤ ln2/2, Cephes' expf polynomial for e^r (1 + r + r²·P(r),
     * P of degree 5 evaluated in Estrin's order, a short dependency chain), 2^k from exponent bits. k comes from the
     * rounding constant's mantissa, not a float-to-int conversion, and out-of-range inputs are replaced at the end
     * instead of clamped first: both would cost a dozen instructions on AVX2 for Java's NaN and -0 rules.
     * Relative error below 1e-7 from -87.3 to ln(Float.MAX_VALUE); lower inputs give 0, higher +Inf, NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector j = x.fma(FloatVector.broadcast(F, 1.4426950408889634f), FloatVector.broadcast(F, ROUNDER));
        FloatVector k = j.sub(ROUNDER);
        FloatVector r = k.fma(FloatVector.broadcast(F, -0.693145751953125f), x).sub(k.mul(1.4286067653e-6f));
        FloatVector z = r.mul(r);
        FloatVector q01 = r.fma(FloatVector.broadcast(F, 1.6666665459e-1f), FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector q23 = r.fma(FloatVector.broadcast(F, 8.3334519073e-3f), FloatVector.broadcast(F, 4.1665795894e-2f));
        FloatVector q45 = r.fma(FloatVector.broadcast(F, 1.9875691500e-4f), FloatVector.broadcast(F, 1.3981999507e-3f));
        FloatVector p = z.fma(z.mul(z).fma(q45, z.fma(q23, q01)), r).add(1f);
        IntVector ki = ((IntVector) j.reinterpretShape(I, 0)).sub(Float.floatToRawIntBits(ROUNDER)), half = ki.lanewise(VectorOperators.ASHR, 1);
        FloatVector scaleA = (FloatVector) half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(F, 0);
        FloatVector scaleB = (FloatVector) ki.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(F, 0);
        FloatVector out = p.mul(scaleA).mul(scaleB); // 2^k in two normal halves, so that k = 128 and k = -126 both work
        return out.blend(0f, x.lt(-87.3f)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.72283f));
    }

    /** Bytes for L lanes (8 or 16: a 64- or 128-bit vector). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));

    /**
     * Bytes widened to int lanes and multiplied there, two accumulators. The sum is exact (|a·b| ≤ 128², below 2^31
     * for the n the contract allows), so the lanes' order does not change it: the same int as the scalar loop.
     */
    public int dotBytes(byte[] a, int ao, MemorySegment b, long bo, int n) {
        IntVector s0 = IntVector.zero(I), s1 = s0;
        int i = 0, bound = n - n % (2 * L);
        for (; i < bound; i += 2 * L) {
            s0 = s0.add(ints(ByteVector.fromArray(B, a, ao + i)).mul(ints(ByteVector.fromMemorySegment(B, b, bo + i, ByteOrder.LITTLE_ENDIAN))));
            s1 = s1.add(ints(ByteVector.fromArray(B, a, ao + i + L)).mul(ints(ByteVector.fromMemorySegment(B, b, bo + i + L, ByteOrder.LITTLE_ENDIAN))));
        }
        int s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b.get(ValueLayout.JAVA_BYTE, bo + i);
        return s;
    }

    /**
     * Four rows at a time: each vector of a is loaded and widened once for the four, a quarter of the activation work
     * of four {@link #dotBytes} calls; fewer rows go one by one.
     */
    public void dotBytesRows(byte[] a, int ao, MemorySegment b, long bo, long stride, int rows, int n, int[] out) {
        if (rows != 4) {
            for (int r = 0; r < rows; r++) out[r] = dotBytes(a, ao, b, bo + r * stride, n);
            return;
        }
        IntVector s0 = IntVector.zero(I), s1 = s0, s2 = s0, s3 = s0;
        int i = 0, bound = n - n % L;
        for (; i < bound; i += L) {
            IntVector x = ints(ByteVector.fromArray(B, a, ao + i));
            s0 = s0.add(x.mul(ints(ByteVector.fromMemorySegment(B, b, bo + i, ByteOrder.LITTLE_ENDIAN))));
            s1 = s1.add(x.mul(ints(ByteVector.fromMemorySegment(B, b, bo + stride + i, ByteOrder.LITTLE_ENDIAN))));
            s2 = s2.add(x.mul(ints(ByteVector.fromMemorySegment(B, b, bo + 2 * stride + i, ByteOrder.LITTLE_ENDIAN))));
            s3 = s3.add(x.mul(ints(ByteVector.fromMemorySegment(B, b, bo + 3 * stride + i, ByteOrder.LITTLE_ENDIAN))));
        }
        out[0] = s0.reduceLanes(VectorOperators.ADD);
        out[1] = s1.reduceLanes(VectorOperators.ADD);
        out[2] = s2.reduceLanes(VectorOperators.ADD);
        out[3] = s3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++)
            for (int r = 0; r < 4; r++) out[r] += a[ao + i] * b.get(ValueLayout.JAVA_BYTE, bo + r * stride + i);
    }

    private static IntVector ints(ByteVector v) {
        return (IntVector) v.convertShape(VectorOperators.B2I, I, 0);
    }

    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
        }
        for (; i + L <= n; i += L) s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
        float s = sum(s0.add(s1));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, x, xo + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    /**
     * Columns outer, rows inner: each vector of columns stays in a register across the rows (two at a time), where
     * axpy per row stored and reloaded it every row (decoding a token spent 4 % of its time there on the 82M).
     */
    public void weightedSum(float[] w, int wo, int rows, float[] v, int vo, int stride, float[] out, int oo, int n) {
        int c = 0;
        for (; c + 2 * L <= n; c += 2 * L) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0;
            for (int j = 0; j < rows; j++) {
                FloatVector a = FloatVector.broadcast(F, w[wo + j]);
                int at = vo + j * stride + c;
                s0 = FloatVector.fromArray(F, v, at).fma(a, s0);
                s1 = FloatVector.fromArray(F, v, at + L).fma(a, s1);
            }
            s0.intoArray(out, oo + c);
            s1.intoArray(out, oo + c + L);
        }
        for (; c + L <= n; c += L) {
            FloatVector s0 = FloatVector.zero(F);
            for (int j = 0; j < rows; j++) s0 = FloatVector.fromArray(F, v, vo + j * stride + c).fma(FloatVector.broadcast(F, w[wo + j]), s0);
            s0.intoArray(out, oo + c);
        }
        for (; c < n; c++) {
            float s = 0;
            for (int j = 0; j < rows; j++) s += w[wo + j] * v[vo + j * stride + c];
            out[oo + c] = s;
        }
    }

    public void add(float[] y, int yo, float[] x, int xo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, y, yo + i).add(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += x[xo + i];
    }

    /**
     * Four quarters of the span at once: a decode reads its source once, from memory, and one sequential stream per
     * thread waits on the prefetcher at every 4 KiB page; four streams overlap those waits (a whole mapped BF16 file
     * decoded 1.2–1.5× faster in a micro-benchmark; in prompt processing the wait moved to the panel transpose).
     */
    public void bf16ToFloat(MemorySegment src, long off, float[] dst, int n) {
        int q = n / (4 * L) * L, i = 0;
        for (; i < q; i += L) {
            bf16Lanes(src, off, dst, i);
            bf16Lanes(src, off, dst, q + i);
            bf16Lanes(src, off, dst, 2 * q + i);
            bf16Lanes(src, off, dst, 3 * q + i);
        }
        for (i = 4 * q; i < F.loopBound(n); i += L) bf16Lanes(src, off, dst, i);
        for (; i < n; i++) dst[i] = Float.intBitsToFloat((src.get(ScalarOps.SHORT_LE, off + 2L * i) & 0xffff) << 16);
    }

    private static void bf16Lanes(MemorySegment src, long off, float[] dst, int i) {
        ShortVector h = ShortVector.fromMemorySegment(S, src, off + 2L * i, ByteOrder.LITTLE_ENDIAN);
        ((FloatVector) ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0)).intoArray(dst, i);
    }

    /**
     * Halves widened in vector lanes (there is no half-to-float lane conversion): the exponent and mantissa bits moved
     * up 13 places are a float 2¹¹² times too small, exact for normal and subnormal halves alike, so one multiply
     * scales them; exponent 31 (infinity, NaN) takes the float's all-ones exponent instead; then the sign.
     */
    public void f16ToFloat(MemorySegment src, long off, float[] dst, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
            IntVector em = h.and(0x7fff), shifted = em.lanewise(VectorOperators.LSHL, 13);
            IntVector bits = ((IntVector) ((FloatVector) shifted.reinterpretShape(F, 0)).mul(0x1p112f).reinterpretShape(I, 0))
                    .blend(shifted.or(0x7f800000), em.compare(VectorOperators.GE, 0x7c00));
            ((FloatVector) bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretShape(F, 0)).intoArray(dst, i);
        }
        for (; i < n; i++) dst[i] = Float.float16ToFloat(src.get(ScalarOps.SHORT_LE, off + 2L * i));
    }

    public void rmsNorm(float[] x, int xo, float[] w, float eps, float[] out, int oo, int n) {
        float inv = (float) (1 / Math.sqrt(dot(x, xo, x, xo, n) / n + eps));
        int i = 0;
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, x, xo + i).mul(inv).mul(FloatVector.fromArray(F, w, i)).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] = w[i] * (x[xo + i] * inv);
    }

    public void layerNorm(float[] x, int xo, float[] w, float[] b, float eps, float[] out, int oo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += L) acc = acc.add(FloatVector.fromArray(F, x, xo + i));
        float sum = sum(acc);
        for (; i < n; i++) sum += x[xo + i];
        float mean = sum / n;
        acc = FloatVector.zero(F);
        for (i = 0; i < F.loopBound(n); i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xo + i).sub(mean);
            acc = d.fma(d, acc);
        }
        float var = sum(acc);
        for (; i < n; i++) var += (x[xo + i] - mean) * (x[xo + i] - mean);
        float inv = (float) (1 / Math.sqrt(var / n + eps));
        for (i = 0; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, x, xo + i).sub(mean).mul(inv).fma(FloatVector.fromArray(F, w, i), FloatVector.fromArray(F, b, i)).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] = (x[xo + i] - mean) * inv * w[i] + b[i];
    }

    public void softmax(float[] x, int off, int n) {
        int i = 0, bound = F.loopBound(n);
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i < bound; i += L) m = m.max(FloatVector.fromArray(F, x, off + i));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        float inv = 1f / expShifted(x, off, n, max);
        for (i = 0; i < bound; i += L) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    /**
     * x[i] = e^(x[i] - shift) over [off, off+n), returning the sum. The last partial vector goes through exp padded
     * with -Inf, whose lanes weigh 0, in the same loop: one call site of exp. (A second one in softmax made C2 stop
     * inlining at its node limit, and an exp that is not inlined boxes its vectors: 30 ns per element instead of 1.
     * Masked loads and stores are not always intrinsified on AVX2 either.)
     */
    private static float expShifted(float[] x, int off, int n, float shift) {
        FloatVector s = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            boolean whole = i + L <= n;
            float[] src = x;
            int at = off + i;
            if (!whole) {
                src = new float[L];
                Arrays.fill(src, Float.NEGATIVE_INFINITY);
                System.arraycopy(x, off + i, src, 0, n - i);
                at = 0;
            }
            FloatVector e = exp(FloatVector.fromArray(F, src, at).sub(shift));
            e.intoArray(src, at);
            if (!whole) System.arraycopy(src, 0, x, off + i, n - i);
            s = s.add(e);
        }
        return sum(s);
    }

    public void geluTanh(float[] x, int off, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(0.7978845608028654f);
            FloatVector tanh = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(exp(inner.mul(2f)).add(1f)));
            v.mul(0.5f).mul(tanh.add(1f)).intoArray(x, off + i);
        }
        scalar.geluTanh(x, off + i, n - i);
    }

    public void siluMul(float[] gate, float[] up, int off, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, off + i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(F, up, off + i)).intoArray(gate, off + i);
        }
        scalar.siluMul(gate, up, off + i, n - i);
    }

    public void rope(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        int i = 0;
        for (; i < F.loopBound(half); i += L) {
            FloatVector a = FloatVector.fromArray(F, x, off + i), b = FloatVector.fromArray(F, x, off + half + i);
            FloatVector c = FloatVector.fromArray(F, cos, csOff + i), s = FloatVector.fromArray(F, sin, csOff + i);
            a.mul(c).sub(b.mul(s)).intoArray(x, off + i);
            b.mul(c).add(a.mul(s)).intoArray(x, off + half + i);
        }
        for (; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], c = cos[csOff + i], s = sin[csOff + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    /** Per-head work of a few dozen pairs: the plain loop is as fast as shuffling lanes here. */
    public void ropeInterleaved(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        scalar.ropeInterleaved(x, off, half, cos, sin, csOff);
    }

    public void alibi(float[] scores, int off, int n, float slope) {
        int i = 0;
        FloatVector ramp = FloatVector.fromArray(F, RAMP, 0).mul(slope);
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, scores, off + i).add(ramp.add(slope * i)).intoArray(scores, off + i);
        for (; i < n; i++) scores[off + i] += slope * i;
    }
}
