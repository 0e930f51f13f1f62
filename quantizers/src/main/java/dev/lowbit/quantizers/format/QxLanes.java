package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * make_qx_quants with rmse_type 1 and no weights (Q6_K's sub-blocks) for 8 or 16 groups side by side: lane j is group
 * j, and each lane runs the reference's loops in their order (element i of every group in the same step, products
 * grouped as written, no fused multiply-add), so each lane's sums, its choice among the 19 trial scales and its quants
 * are the reference's. The sums are chains of dependent adds; independent chains keep the adder busy where one
 * group at a time waited on each add (39 ns per value, most of a Q4_0 or Q6_K export). {@link GgmlQuants#makeQxQuants}
 * is the scalar twin.
 */
final class QxLanes {
    private QxLanes() {}

    /**
     * The preferred width, as the other quantizer kernels: two float species in one process (256 bits here, 512 in
     * Q4_0's lanes) share the Vector API's call-site profiles, and C2 then compiled Q4_0's lanes with boxed vectors in
     * about half of the 1.1B Q4_0 exports (10 GB allocated, 1 s lost).
     */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Groups side by side: one a lane, 8 (256-bit vectors) or 16 (512-bit: a whole Q6_K super-block). */
    static final int GROUPS = F.length();
    static final boolean USABLE = GROUPS == 8 || GROUPS == 16;

    /** Per-call scratch for groups of up to n values: transposed values, their w·x and w, the best trial's quants. */
    static final class Scratch {
        final float[] x, wx, w;
        final int[] best;
        final boolean[] flat = new boolean[GROUPS];

        Scratch(int n) {
            x = new float[GROUPS * n];
            wx = new float[GROUPS * n];
            w = new float[GROUPS * n];
            best = new int[GROUPS * n];
        }
    }

    /**
     * Groups j < GROUPS of n values at x[xo + n·j ..] into xt, element i of every group side by side (xt[i·GROUPS + j]),
     * with each group's value of largest magnitude in max[j] (1 where the group is flat: all below GROUP_MAX_EPS in
     * magnitude, which the reference codes as quants 0 and scale 0, flat[j]).
     */
    static void transpose(int n, float[] x, int xo, float[] xt, float[] max, boolean[] flat) {
        for (int j = 0; j < GROUPS; j++) {
            float m = 0, amax = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + n * j + i], ax = Math.abs(v);
                if (ax > amax) { amax = ax; m = v; }
                xt[i * GROUPS + j] = v;
            }
            flat[j] = amax < GgmlQuants.GROUP_MAX_EPS;
            max[j] = flat[j] ? 1f : m;
        }
    }

    /**
     * Groups j < GROUPS of n values at x[xo + n·j ..]: scales[so + j] = make_qx_quants(n, nmax, ..., rmse_type 1, NULL) and
     * L[lo + n·j ..] its quants.
     * <p>
     * Two of the 18 trial scales are summed in one pass over the values: each lane's sums stay chains of adds in the
     * reference's order, but two independent pairs of chains keep the adder busy where one pair waited on each add,
     * and the values are loaded once for both. The trials are then taken in the reference's order. A trial's quants
     * are not kept: as the reference, the best trial's are computed again from its iscale, once at the end (the same
     * float operations, so the same ints), instead of stored for every trial and copied when one is better.
     */
    static void run(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] scales, int so, Scratch s) {
        for (int j = 0; j < GROUPS; j++)
            for (int i = 0; i < n; i++) s.x[i * GROUPS + j] = x[xo + n * j + i];
        // The quants' expression is written out at each use: as a helper taking and returning vectors (as Q3Lanes.quant)
        // it ran here on allocated vectors, 18-60 instead of 3.2 ns a weight.
        // No vector operation here is called on a loop-carried vector (amax, m, sums, scale, best, bestIscale): C2 parses
        // such a receiver with its declared type, FloatVector, and inlines the operation only from the call site's type
        // profile; compiled before that profile was complete, about one 82M Q6_K export in 40 ran this method on
        // allocated vectors (40 collections, 3.8 s instead of 1.3). Sums take the new term as receiver (float adds
        // commute exactly) and the other uses read a copy made by a blend on a fresh vector (same bits).
        FloatVector zero = FloatVector.zero(F), amax = zero, m = zero;
        VectorMask<Float> all = F.maskAll(true);
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), ax = xi.abs(), w = xi.mul(xi); // rmse_type 1: w = x²
            w.intoArray(s.w, i * GROUPS);
            w.mul(xi).intoArray(s.wx, i * GROUPS);
            VectorMask<Float> keep = ax.compare(VectorOperators.GT, amax).not(); // if (ax > amax) { amax = ax; max = x; }
            amax = ax.blend(amax, keep);
            m = xi.blend(m, keep);
        }
        // flat groups (all below GROUP_MAX_EPS in magnitude): the reference codes them as quants 0 and scale 0
        VectorMask<Float> flat = zero.blend(amax, all).compare(VectorOperators.LT, GgmlQuants.GROUP_MAX_EPS);
        flat.intoArray(s.flat, 0);
        FloatVector max = zero.blend(m, all).blend(1f, flat);
        FloatVector iscale0 = FloatVector.broadcast(F, (float) -nmax).div(max), sumlx = zero, suml2 = zero;
        for (int i = 0; i < n; i++) { // the first pass, iscale = −nmax/max
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS);
            IntVector l = ((IntVector) iscale0.mul(xi).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
            FloatVector lf = (FloatVector) l.convertShape(VectorOperators.I2F, F, 0);
            sumlx = FloatVector.fromArray(F, s.wx, i * GROUPS).mul(lf).add(sumlx);
            suml2 = FloatVector.fromArray(F, s.w, i * GROUPS).mul(lf).mul(lf).add(suml2);
        }
        FloatVector slx0 = zero.blend(sumlx, all), sl20 = zero.blend(suml2, all);
        FloatVector scale = slx0.div(sl20).blend(0f, sl20.compare(VectorOperators.EQ, 0f)), best = scale.mul(slx0), bestIscale = iscale0;
        for (int is = 1; is <= 18; is += 2) { // the reference's is = −9 .. 9 without 0, two at a time
            FloatVector ia = FloatVector.broadcast(F, trial(nmax, is)).div(max), ib = FloatVector.broadcast(F, trial(nmax, is + 1)).div(max);
            FloatVector lxa = zero, l2a = zero, lxb = zero, l2b = zero;
            for (int i = 0; i < n; i++) {
                FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), wx = FloatVector.fromArray(F, s.wx, i * GROUPS), w = FloatVector.fromArray(F, s.w, i * GROUPS);
                IntVector qa = ((IntVector) ia.mul(xi).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
                IntVector qb = ((IntVector) ib.mul(xi).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
                FloatVector la = (FloatVector) qa.convertShape(VectorOperators.I2F, F, 0), lb = (FloatVector) qb.convertShape(VectorOperators.I2F, F, 0);
                lxa = wx.mul(la).add(lxa);
                l2a = w.mul(la).mul(la).add(l2a);
                lxb = wx.mul(lb).add(lxb);
                l2b = w.mul(lb).mul(lb).add(l2b);
            }
            // the two trials taken in order: if (suml2 > 0 && sumlx·sumlx > best·suml2) { scale = sumlx/suml2; best = scale·sumlx; }
            FloatVector slx = zero.blend(lxa, all), sl2 = zero.blend(l2a, all), bs = zero.blend(best, all), t = slx.div(sl2);
            VectorMask<Float> better = sl2.compare(VectorOperators.GT, 0f).and(slx.mul(slx).compare(VectorOperators.GT, bs.mul(sl2)));
            FloatVector sc = zero.blend(scale, all).blend(t, better), bs1 = bs.blend(t.mul(slx), better);
            FloatVector bi = zero.blend(bestIscale, all).blend(ia, better);
            FloatVector slxb = zero.blend(lxb, all), sl2b = zero.blend(l2b, all), tb = slxb.div(sl2b);
            VectorMask<Float> betterB = sl2b.compare(VectorOperators.GT, 0f).and(slxb.mul(slxb).compare(VectorOperators.GT, bs1.mul(sl2b)));
            scale = sc.blend(tb, betterB);
            best = bs1.blend(tb.mul(slxb), betterB);
            bestIscale = bi.blend(ib, betterB);
        }
        FloatVector bis = zero.blend(bestIscale, all);
        for (int i = 0; i < n; i++) { // the best trial's quants, as the reference computes them when it takes it
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS);
            ((IntVector) bis.mul(xi).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1).add(nmax)
                    .intoArray(s.best, i * GROUPS);
        }
        zero.blend(scale, all).intoArray(scales, so);
        for (int j = 0; j < GROUPS; j++) {
            if (s.flat[j]) scales[so + j] = 0f;
            for (int i = 0; i < n; i++) L[lo + n * j + i] = s.flat[j] ? 0 : s.best[i * GROUPS + j];
        }
    }

    /** The reference's trial numerator −(nmax + 0.1·is) for its is = −9 .. −1, 1 .. 9, numbered k = 1 .. 18. */
    private static float trial(int nmax, int k) {
        return -(nmax + 0.1f * (k <= 9 ? k - 10 : k - 9));
    }
}
