package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * make_qx_quants (rmse_type 1: weights x², as quantize_row_q6_K_ref calls it) for eight groups of n side by side:
 * lane j is group j, and each lane runs the reference's loops in its order (element i of every group in the same
 * step), so its sums are the reference's floats. Every step is a small method with the lanes' state in arrays, so
 * C2 compiles each vector operation to its intrinsic. {@link GgmlQuants#makeQxQuants} is the scalar twin.
 */
final class QxLanes {
    private QxLanes() {}

    static final VectorSpecies<Float> F = Qkx2Lanes.F;
    static final VectorSpecies<Integer> I = Qkx2Lanes.I;
    static final int GROUPS = 8, MAX_N = 32;
    static final boolean USABLE = Qkx2Lanes.USABLE;

    /** Per-call scratch: transposed values, a trial's quants and the kept ones (element-major), the lanes' state. */
    static final class Scratch {
        final float[] x = new float[GROUPS * MAX_N];
        final int[] trial = new int[GROUPS * MAX_N], best = new int[GROUPS * MAX_N];
        final float[] max = new float[GROUPS], scale = new float[GROUPS], best2 = new float[GROUPS];
        final boolean[] zero = new boolean[GROUPS], better = new boolean[GROUPS];
    }

    /**
     * Groups j < 8 of n values at x[xo + n·j ..]: scales[so + j] = make_qx_quants(n, nmax, group, L + lo + n·j, 1) and
     * its quants (stored + nmax) in L[lo + n·j ..].
     */
    static void run(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] scales, int so, Scratch s) {
        for (int j = 0; j < GROUPS; j++)
            for (int i = 0; i < n; i++) s.x[i * GROUPS + j] = x[xo + n * j + i];
        firstPass(n, nmax, s);
        for (int is = -9; is <= 9; ++is)
            if (is != 0) trial(n, nmax, nmax + 0.1f * is, s);
        for (int j = 0; j < GROUPS; j++) {
            scales[so + j] = s.zero[j] ? 0 : s.scale[j];
            for (int i = 0; i < n; i++) L[lo + n * j + i] = s.zero[j] ? 0 : s.best[i * GROUPS + j];
        }
    }

    /** The signed value of largest magnitude (the first of equals), the quants of iscale = −nmax/max and their scale. */
    private static void firstPass(int n, int nmax, Scratch s) {
        float[] xt = s.x;
        FloatVector amax = FloatVector.zero(F), max = amax;
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), ax = xi.abs();
            VectorMask<Float> larger = ax.compare(VectorOperators.GT, amax);
            amax = amax.blend(ax, larger);
            max = max.blend(xi, larger);
        }
        amax.compare(VectorOperators.LT, GgmlQuants.GROUP_MAX_EPS).intoArray(s.zero, 0); // the reference returns 0, quants 0
        FloatVector iscale = FloatVector.broadcast(F, -nmax).div(max);
        FloatVector sumlx = FloatVector.zero(F), suml2 = sumlx;
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), w = xi.mul(xi);
            IntVector l = quant(iscale.mul(xi), nmax);
            l.add(nmax).intoArray(s.best, i * GROUPS);
            FloatVector lf = (FloatVector) l.convert(VectorOperators.I2F, 0);
            sumlx = sumlx.add(w.mul(xi).mul(lf));
            suml2 = suml2.add(w.mul(lf).mul(lf));
        }
        FloatVector scale = sumlx.div(suml2).blend(0f, suml2.compare(VectorOperators.EQ, 0f));
        max.intoArray(s.max, 0);
        scale.intoArray(s.scale, 0);
        scale.mul(sumlx).intoArray(s.best2, 0);
    }

    /** The trial iscale = −numerator/max; lanes where sumlx² > best·suml2 (and suml2 > 0) take it. */
    private static void trial(int n, int nmax, float numerator, Scratch s) {
        float[] xt = s.x;
        FloatVector iscale = FloatVector.broadcast(F, -numerator).div(FloatVector.fromArray(F, s.max, 0));
        FloatVector sumlx = FloatVector.zero(F), suml2 = sumlx;
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), w = xi.mul(xi);
            IntVector l = quant(iscale.mul(xi), nmax);
            l.add(nmax).intoArray(s.trial, i * GROUPS);
            FloatVector lf = (FloatVector) l.convert(VectorOperators.I2F, 0);
            sumlx = sumlx.add(w.mul(xi).mul(lf));
            suml2 = suml2.add(w.mul(lf).mul(lf));
        }
        FloatVector best = FloatVector.fromArray(F, s.best2, 0);
        VectorMask<Float> better = suml2.compare(VectorOperators.GT, 0f).and(sumlx.mul(sumlx).compare(VectorOperators.GT, best.mul(suml2)));
        if (!better.anyTrue()) return;
        better.intoArray(s.better, 0);
        take(n, s);
        FloatVector scale = sumlx.div(suml2);
        FloatVector.fromArray(F, s.scale, 0).blend(scale, better).intoArray(s.scale, 0);
        best.blend(scale.mul(sumlx), better).intoArray(s.best2, 0);
    }

    private static void take(int n, Scratch s) {
        VectorMask<Integer> take = VectorMask.fromArray(I, s.better, 0);
        for (int i = 0; i < n; i++)
            IntVector.fromArray(I, s.best, i * GROUPS).blend(IntVector.fromArray(I, s.trial, i * GROUPS), take).intoArray(s.best, i * GROUPS);
    }

    /** nearest_int(v) clamped to [−nmax, nmax − 1]. */
    private static IntVector quant(FloatVector v, int nmax) {
        return v.add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax);
    }
}
