package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * make_qkx2_quants for groups side by side, one a lane: the 8 groups of 32 of a Q4_K/Q5_K super-block, the 16 groups
 * of 16 of a Q2_K one (mean absolute error, use_mad). Each lane runs the reference's loops in its order: element i of
 * every group is added in the same step, so every lane's sums are the reference's floats, and a trial that lowers a
 * lane's error moves that lane's min for its next trial as the reference's sequential loop does. The values are
 * transposed first (element i of the groups side by side). {@link GgmlQuants#makeQkx2Quants} is the scalar twin.
 * The vectors are the preferred width, as the other quantizer kernels: a second float species in a process shares
 * the Vector API's call-site profiles, and C2 then compiled this search with boxed masks (3 GB allocated in a 1.1B
 * Q4_K_M export). Fewer groups than lanes fill the rest with copies of group 0, whose results are dropped.
 * No vector operation is called on a vector carried across loop iterations (as in {@link QxLanes}): C2 parses such a
 * receiver with its declared type and inlines the operation only from the call site's profile, and compiled early
 * (the launcher compiles these methods at a twentieth of the usual counts) about one 82M Q5_K_M export in 20 ran
 * here on allocated vectors (60 collections, 5.7-6.2 s instead of 1.8). Sums take the new term as receiver, min and
 * max the new value with the negated mask, and later uses read a copy made by a blend on a fresh vector.
 */
final class Qkx2Lanes {
    private Qkx2Lanes() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Lanes: groups searched at once. */
    static final int GROUPS = F.length();
    /** Where vectors hold 8 or 16 floats (not emulated, not wider than the kernels were written for). */
    static final boolean USABLE = (GROUPS == 8 || GROUPS == 16) && I.length() == GROUPS;

    /**
     * Per-thread scratch for groups of n: transposed values and weights, a trial's quants and the best quants
     * (element-major), and each lane's state between trials (kept in arrays: each step is its own small method, which
     * C2 compiles whole).
     */
    static final class Scratch {
        final int n;
        final float[] x, w;
        final int[] trial, best;
        final float[] min = new float[GROUPS], max = new float[GROUPS], sumW = new float[GROUPS], sumX = new float[GROUPS];
        final float[] scale = new float[GROUPS], error = new float[GROUPS], trialScale = new float[GROUPS], trialMin = new float[GROUPS];
        final float[] trialError = new float[GROUPS];
        final boolean[] better = new boolean[GROUPS];
        final boolean[] flat = new boolean[GROUPS];

        Scratch(int n) {
            this.n = n;
            x = new float[GROUPS * n];
            w = new float[GROUPS * n];
            trial = new int[GROUPS * n];
            best = new int[GROUPS * n];
        }
    }

    private static final ThreadLocal<Scratch> OF16 = ThreadLocal.withInitial(() -> new Scratch(16)),
            OF32 = ThreadLocal.withInitial(() -> new Scratch(32));

    /** This thread's scratch for groups of 16 or 32. */
    static Scratch scratch(int n) {
        return (n == 16 ? OF16 : OF32).get();
    }

    /**
     * Groups j < groups (at most {@link #GROUPS}) of s.n values at x[xo + n·j ..], weights[wo + n·j ..]: scales[so + j]
     * = the scale make_qkx2_quants returns, mins[so + j] its the_min, L[lo + n·j ..] its quants; nstep ≥ 1.
     */
    static void run(int groups, int nmax, float[] x, int xo, float[] weights, int wo, int[] L, int lo, float[] scales, float[] mins, int so,
            float rmin, float rdelta, int nstep, boolean useMad, Scratch s) {
        int n = s.n;
        for (int j = 0; j < GROUPS; j++) {
            int g = j < groups ? j : 0;
            for (int i = 0; i < n; i++) {
                s.x[i * GROUPS + j] = x[xo + n * g + i];
                s.w[i * GROUPS + j] = weights[wo + n * g + i];
            }
        }
        firstPass(nmax, useMad, s);
        for (int is = 0; is <= nstep; ++is) trial(nmax, rmin + rdelta * is + nmax, useMad, s);
        for (int j = 0; j < groups; j++) {
            scales[so + j] = s.flat[j] ? 0 : s.scale[j];
            mins[so + j] = -s.min[j]; // the_min = -min
            for (int i = 0; i < n; i++) L[lo + n * j + i] = s.flat[j] ? 0 : s.best[i * GROUPS + j];
        }
    }

    /** The error term of a difference: |diff| (use_mad) or diff². */
    private static FloatVector loss(FloatVector diff, boolean useMad) {
        return useMad ? diff.abs() : diff.mul(diff);
    }

    /** min, max (min ≤ 0), sumW, sumX; the quants of scale (max − min)/nmax and their error. */
    private static void firstPass(int nmax, boolean useMad, Scratch s) {
        float[] xt = s.x, wt = s.w;
        int n = s.n;
        FloatVector zero = FloatVector.zero(F);
        VectorMask<Float> all = F.maskAll(true);
        FloatVector min = FloatVector.fromArray(F, xt, 0), max = min, sumW = FloatVector.fromArray(F, wt, 0), sumX = sumW.mul(min);
        for (int i = 1; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            min = xi.blend(min, xi.compare(VectorOperators.LT, min).not()); // if (x < min) min = x: keeps min's zero sign
            max = xi.blend(max, xi.compare(VectorOperators.GT, max).not());
            sumW = wi.add(sumW);
            sumX = wi.mul(xi).add(sumX);
        }
        FloatVector mx = zero.blend(max, all);
        min = zero.blend(min, all);
        min = min.blend(0f, min.compare(VectorOperators.GT, 0f));
        mx.compare(VectorOperators.EQ, min).intoArray(s.flat, 0); // the reference returns early: quants 0, scale 0
        FloatVector iscale = FloatVector.broadcast(F, nmax).div(mx.sub(min)), scale = FloatVector.broadcast(F, 1f).div(iscale);
        FloatVector error = zero;
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            IntVector l = quant(iscale.mul(xi.sub(min)), nmax);
            l.intoArray(s.best, i * GROUPS);
            FloatVector diff = scale.mul(toFloat(l)).add(min).sub(xi);
            error = wi.mul(loss(diff, useMad)).add(error);
        }
        min.intoArray(s.min, 0);
        mx.intoArray(s.max, 0);
        zero.blend(sumW, all).intoArray(s.sumW, 0);
        zero.blend(sumX, all).intoArray(s.sumX, 0);
        scale.intoArray(s.scale, 0);
        zero.blend(error, all).intoArray(s.error, 0);
    }

    /** One trial, iscale = numerator/(max − min) from each lane's current min; a lane whose error it lowers takes it. */
    private static void trial(int nmax, float numerator, boolean useMad, Scratch s) {
        float[] xt = s.x, wt = s.w;
        int[] lt = s.trial;
        int n = s.n;
        FloatVector min = FloatVector.fromArray(F, s.min, 0), isc = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, s.max, 0).sub(min));
        FloatVector zero = FloatVector.zero(F), sumL = zero, sumL2 = zero, sumXl = zero;
        VectorMask<Float> all = F.maskAll(true);
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * GROUPS), wi = FloatVector.fromArray(F, wt, i * GROUPS);
            IntVector l = quant(isc.mul(xi.sub(min)), nmax);
            l.intoArray(lt, i * GROUPS);
            FloatVector lf = toFloat(l), wl = wi.mul(lf);
            sumL = wl.add(sumL);
            sumL2 = wl.mul(lf).add(sumL2);
            sumXl = wl.mul(xi).add(sumXl);
        }
        sumL = zero.blend(sumL, all);
        sumL2 = zero.blend(sumL2, all);
        sumXl = zero.blend(sumXl, all);
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
        error(useMad, s);
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
     * Σ w·loss(scale·l + min − x) over the trial's quants, in element order, for its scale and min (passed in arrays:
     * a vector passed to or returned from a method C2 does not inline is boxed, and every operation on it loses its
     * intrinsic), into s.trialError.
     */
    private static void error(boolean useMad, Scratch s) {
        FloatVector error = FloatVector.zero(F), scale = FloatVector.fromArray(F, s.trialScale, 0), min = FloatVector.fromArray(F, s.trialMin, 0);
        for (int i = 0; i < s.n; i++) {
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), wi = FloatVector.fromArray(F, s.w, i * GROUPS);
            FloatVector diff = scale.mul(toFloat(IntVector.fromArray(I, s.trial, i * GROUPS))).add(min).sub(xi);
            error = wi.mul(loss(diff, useMad)).add(error);
        }
        FloatVector.zero(F).blend(error, F.maskAll(true)).intoArray(s.trialError, 0);
    }

    /** The trial's quants become the best in the lanes s.better marks. */
    private static void take(Scratch s) {
        VectorMask<Integer> take = VectorMask.fromArray(I, s.better, 0);
        for (int i = 0; i < s.n; i++)
            IntVector.fromArray(I, s.best, i * GROUPS).blend(IntVector.fromArray(I, s.trial, i * GROUPS), take).intoArray(s.best, i * GROUPS);
    }

    /** nearest_int(v) clamped to [0, nmax], as the reference: the float trick (v + 1.5·2^23), then MAX(0, MIN(nmax, l)). */
    private static IntVector quant(FloatVector v, int nmax) {
        return ((IntVector) v.add(12582912.f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).min(nmax).max(0);
    }

    private static FloatVector toFloat(IntVector l) {
        return (FloatVector) l.convertShape(VectorOperators.I2F, F, 0);
    }
}
