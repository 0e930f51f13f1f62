package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * make_qkx2_quants (use_mad false) for the eight groups of 32 of a K-quant super-block side by side: lane j is group
 * j. Each lane runs the reference's loops in its order: element i of every group is added in the same step, so every
 * lane's sums are the reference's floats, and a trial that lowers a lane's error moves that lane's min for its next
 * trial as the reference's sequential loop does. The values are transposed first (element i of the eight groups
 * side by side). {@link GgmlQuants#makeQkx2Quants} is the scalar twin.
 */
final class Qkx2Lanes {
    private Qkx2Lanes() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final int GROUPS = 8, N = 32;
    /** Only where 256-bit vectors are native (not emulated). */
    static final boolean USABLE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 && F.length() == GROUPS;

    /**
     * Per-call scratch: transposed values and weights, a trial's quants and the best quants (element-major), and each
     * lane's state between trials (kept in arrays: each step is its own small method, which C2 compiles whole).
     */
    static final class Scratch {
        final float[] x = new float[GROUPS * N], w = new float[GROUPS * N];
        final int[] trial = new int[GROUPS * N], best = new int[GROUPS * N];
        final float[] min = new float[GROUPS], max = new float[GROUPS], sumW = new float[GROUPS], sumX = new float[GROUPS];
        final float[] scale = new float[GROUPS], error = new float[GROUPS], trialScale = new float[GROUPS], trialMin = new float[GROUPS];
        final float[] trialError = new float[GROUPS];
        final boolean[] better = new boolean[GROUPS];
        final boolean[] flat = new boolean[GROUPS];
    }

    /**
     * Groups j < 8 of x[xo ..] (32 each, weights[32j ..]): scales[j] = the scale make_qkx2_quants returns, mins[j] its
     * the_min, L[32j ..] its quants; nstep ≥ 1.
     */
    static void run(int nmax, float[] x, int xo, float[] weights, int[] L, float[] scales, float[] mins, float rmin, float rdelta, int nstep,
            Scratch s) {
        for (int j = 0; j < GROUPS; j++)
            for (int i = 0; i < N; i++) {
                s.x[i * GROUPS + j] = x[xo + N * j + i];
                s.w[i * GROUPS + j] = weights[N * j + i];
            }
        firstPass(nmax, s);
        for (int is = 0; is <= nstep; ++is) trial(nmax, rmin + rdelta * is + nmax, s);
        for (int j = 0; j < GROUPS; j++) {
            scales[j] = s.flat[j] ? 0 : s.scale[j];
            mins[j] = -s.min[j]; // the_min = -min
            for (int i = 0; i < N; i++) L[N * j + i] = s.flat[j] ? 0 : s.best[i * GROUPS + j];
        }
    }

    /** min, max (min ≤ 0), sumW, sumX; the quants of scale (max − min)/nmax and their error. */
    private static void firstPass(int nmax, Scratch s) {
        float[] xt = s.x, wt = s.w;
        FloatVector min = FloatVector.fromArray(F, xt, 0), max = min, sumW = FloatVector.fromArray(F, wt, 0), sumX = sumW.mul(min);
        for (int i = 1; i < N; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            min = min.blend(xi, xi.compare(VectorOperators.LT, min)); // if (x < min) min = x: keeps min's zero sign
            max = max.blend(xi, xi.compare(VectorOperators.GT, max));
            sumW = sumW.add(wi);
            sumX = sumX.add(wi.mul(xi));
        }
        min = min.blend(0f, min.compare(VectorOperators.GT, 0f));
        max.compare(VectorOperators.EQ, min).intoArray(s.flat, 0); // the reference returns early: quants 0, scale 0
        FloatVector iscale = FloatVector.broadcast(F, nmax).div(max.sub(min)), scale = FloatVector.broadcast(F, 1f).div(iscale);
        FloatVector error = FloatVector.zero(F);
        for (int i = 0; i < N; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            IntVector l = quant(iscale.mul(xi.sub(min)), nmax);
            l.intoArray(s.best, i * GROUPS);
            FloatVector diff = scale.mul(toFloat(l)).add(min).sub(xi);
            error = error.add(wi.mul(diff.mul(diff)));
        }
        min.intoArray(s.min, 0);
        max.intoArray(s.max, 0);
        sumW.intoArray(s.sumW, 0);
        sumX.intoArray(s.sumX, 0);
        scale.intoArray(s.scale, 0);
        error.intoArray(s.error, 0);
    }

    /** One trial, iscale = numerator/(max − min) from each lane's current min; a lane whose error it lowers takes it. */
    private static void trial(int nmax, float numerator, Scratch s) {
        float[] xt = s.x, wt = s.w;
        int[] lt = s.trial;
        FloatVector min = FloatVector.fromArray(F, s.min, 0), isc = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, s.max, 0).sub(min));
        FloatVector sumL = FloatVector.zero(F), sumL2 = sumL, sumXl = sumL;
        for (int i = 0; i < N; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            IntVector l = quant(isc.mul(xi.sub(min)), nmax);
            l.intoArray(lt, i * GROUPS);
            FloatVector lf = toFloat(l), wl = wi.mul(lf);
            sumL = sumL.add(wl);
            sumL2 = sumL2.add(wl.mul(lf));
            sumXl = sumXl.add(wl.mul(xi));
        }
        FloatVector sumW = FloatVector.fromArray(F, s.sumW, 0), sumX = FloatVector.fromArray(F, s.sumX, 0);
        FloatVector d = sumW.mul(sumL2).sub(sumL.mul(sumL));
        VectorMask<Float> solved = d.compare(VectorOperators.GT, 0f).andNot(VectorMask.fromArray(F, s.flat, 0));
        if (!solved.anyTrue()) return;
        FloatVector thisScale = sumW.mul(sumXl).sub(sumX.mul(sumL)).div(d);
        FloatVector thisMin = sumL2.mul(sumX).sub(sumL.mul(sumXl)).div(d);
        VectorMask<Float> positive = thisMin.compare(VectorOperators.GT, 0f);
        thisMin = thisMin.blend(0f, positive);
        thisScale = thisScale.blend(sumXl.div(sumL2), positive);
        thisScale.intoArray(s.trialScale, 0);
        thisMin.intoArray(s.trialMin, 0);
        error(s);
        FloatVector curError = FloatVector.fromArray(F, s.trialError, 0), bestError = FloatVector.fromArray(F, s.error, 0);
        VectorMask<Float> better = solved.and(curError.compare(VectorOperators.LT, bestError));
        if (!better.anyTrue()) return;
        better.intoArray(s.better, 0);
        take(s);
        bestError.blend(curError, better).intoArray(s.error, 0);
        FloatVector.fromArray(F, s.scale, 0).blend(thisScale, better).intoArray(s.scale, 0);
        min.blend(thisMin, better).intoArray(s.min, 0);
    }

    /**
     * Σ w·(scale·l + min − x)² over the trial's quants, in element order, for its scale and min (passed in arrays:
     * a vector passed to or returned from a method C2 does not inline is boxed, and every operation on it loses its
     * intrinsic), into s.trialError.
     */
    private static void error(Scratch s) {
        FloatVector error = FloatVector.zero(F), scale = FloatVector.fromArray(F, s.trialScale, 0), min = FloatVector.fromArray(F, s.trialMin, 0);
        for (int i = 0; i < N; i++) {
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), wi = FloatVector.fromArray(F, s.w, i * GROUPS);
            FloatVector diff = scale.mul(toFloat(IntVector.fromArray(I, s.trial, i * GROUPS))).add(min).sub(xi);
            error = error.add(wi.mul(diff.mul(diff)));
        }
        error.intoArray(s.trialError, 0);
    }

    /** The trial's quants become the best in the lanes s.better marks. */
    private static void take(Scratch s) {
        VectorMask<Integer> take = VectorMask.fromArray(I, s.better, 0);
        for (int i = 0; i < N; i++)
            IntVector.fromArray(I, s.best, i * GROUPS).blend(IntVector.fromArray(I, s.trial, i * GROUPS), take).intoArray(s.best, i * GROUPS);
    }

    /** nearest_int(v) clamped to [0, nmax], as the reference: the float trick (v + 1.5·2^23), then MAX(0, MIN(nmax, l)). */
    private static IntVector quant(FloatVector v, int nmax) {
        return v.add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax).max(0);
    }

    private static FloatVector toFloat(IntVector l) {
        return (FloatVector) l.convert(VectorOperators.I2F, 0);
    }
}
