package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector API kernels, written once over the preferred species: several accumulators, a vector loop, a scalar tail. */
public final class PanamaOps implements VectorOps {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int L = F.length();
    private final ScalarOps scalar = new ScalarOps();

    public void matmulTile(float[] x, int xOff, int tokens, int cols, float[] w, int rows, float[] out, int outOff, int outStride) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            int r = 0;
            for (; r + 4 <= rows; r += 4) tile4x4(x, xOff + t * cols, cols, w, r * cols, out, outOff + t * outStride + r, outStride);
            for (; r < rows; r++)
                for (int u = t; u < t + 4; u++) out[outOff + u * outStride + r] = dot(x, xOff + u * cols, w, r * cols, cols);
        }
        for (; t < tokens; t++)
            for (int r = 0; r < rows; r++) out[outOff + t * outStride + r] = dot(x, xOff + t * cols, w, r * cols, cols);
    }

    /** 4 tokens × 4 rows in 16 accumulators: per step 4 activation and 4 weight loads feed 16 FMAs. */
    private static void tile4x4(float[] x, int xo, int n, float[] w, int wo, float[] out, int oo, int stride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00,
                a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int k = 0, bound = F.loopBound(n);
        for (; k < bound; k += L) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo + k), w1 = FloatVector.fromArray(F, w, wo + n + k),
                    w2 = FloatVector.fromArray(F, w, wo + 2 * n + k), w3 = FloatVector.fromArray(F, w, wo + 3 * n + k);
            FloatVector v = FloatVector.fromArray(F, x, xo + k);
            a00 = v.fma(w0, a00); a01 = v.fma(w1, a01); a02 = v.fma(w2, a02); a03 = v.fma(w3, a03);
            v = FloatVector.fromArray(F, x, xo + n + k);
            a10 = v.fma(w0, a10); a11 = v.fma(w1, a11); a12 = v.fma(w2, a12); a13 = v.fma(w3, a13);
            v = FloatVector.fromArray(F, x, xo + 2 * n + k);
            a20 = v.fma(w0, a20); a21 = v.fma(w1, a21); a22 = v.fma(w2, a22); a23 = v.fma(w3, a23);
            v = FloatVector.fromArray(F, x, xo + 3 * n + k);
            a30 = v.fma(w0, a30); a31 = v.fma(w1, a31); a32 = v.fma(w2, a32); a33 = v.fma(w3, a33);
        }
        FloatVector[] acc = {a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33};
        for (int t = 0; t < 4; t++) {
            for (int r = 0; r < 4; r++) {
                float s = acc[t * 4 + r].reduceLanes(VectorOperators.ADD);
                for (int kk = k; kk < n; kk++) s += x[xo + t * n + kk] * w[wo + r * n + kk];
                out[oo + t * stride + r] = s;
            }
        }
    }

    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
        }
        for (; i + L <= n; i += L) s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, x, xo + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    public void add(float[] y, int yo, float[] x, int xo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, y, yo + i).add(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += x[xo + i];
    }

    public void bf16ToFloat(MemorySegment src, long off, float[] dst, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            ShortVector h = ShortVector.fromMemorySegment(S, src, off + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(dst, i);
        }
        for (; i < n; i++) dst[i] = Float.intBitsToFloat((src.get(ScalarOps.SHORT_LE, off + 2L * i) & 0xffff) << 16);
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
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += x[xo + i];
        float mean = sum / n;
        acc = FloatVector.zero(F);
        for (i = 0; i < F.loopBound(n); i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xo + i).sub(mean);
            acc = d.fma(d, acc);
        }
        float var = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) var += (x[xo + i] - mean) * (x[xo + i] - mean);
        float inv = (float) (1 / Math.sqrt(var / n + eps));
        for (i = 0; i < F.loopBound(n); i += L)
            FloatVector.fromArray(F, x, xo + i).sub(mean).mul(inv).fma(FloatVector.fromArray(F, w, i), FloatVector.fromArray(F, b, i)).intoArray(out, oo + i);
        for (; i < n; i++) out[oo + i] = (x[xo + i] - mean) * inv * w[i] + b[i];
    }

    public void softmax(float[] x, int off, int n) {
        int i = 0;
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i < F.loopBound(n); i += L) m = m.max(FloatVector.fromArray(F, x, off + i));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector s = FloatVector.zero(F);
        for (i = 0; i < F.loopBound(n); i += L) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            s = s.add(e);
        }
        float sum = s.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += x[off + i] = (float) Math.exp(x[off + i] - max);
        float inv = 1f / sum;
        for (i = 0; i < F.loopBound(n); i += L) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    public void geluTanh(float[] x, int off, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(0.7978845608028654f);
            v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(x, off + i);
        }
        scalar.geluTanh(x, off + i, n - i);
    }

    public void siluMul(float[] gate, float[] up, int off, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, off + i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, up, off + i)).intoArray(gate, off + i);
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

    public void alibi(float[] scores, int off, int n, float slope) {
        scalar.alibi(scores, off, n, slope);
    }
}
