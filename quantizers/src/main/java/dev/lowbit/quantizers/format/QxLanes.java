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

    /** Per-call scratch for groups of up to n values: transposed values, their w·x and w, a trial's quants, the best. */
    static final class Scratch {
        final float[] x, wx, w, max = new float[GROUPS];
        final int[] trial, best;
        final boolean[] flat = new boolean[GROUPS];

        Scratch(int n) {
            x = new float[GROUPS * n];
            wx = new float[GROUPS * n];
            w = new float[GROUPS * n];
            trial = new int[GROUPS * n];
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
     */
    static void run(int n, int nmax, float[] x, int xo, int[] L, int lo, float[] scales, int so, Scratch s) {
        transpose(n, x, xo, s.x, s.max, s.flat);
        for (int i = 0; i < n; i++) {
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), w = xi.mul(xi); // rmse_type 1: w = x²
            w.intoArray(s.w, i * GROUPS);
            w.mul(xi).intoArray(s.wx, i * GROUPS);
        }
        // No vector operation here is called on a loop-carried vector (sumlx, suml2, scale, best): C2 parses such a
        // receiver with its declared type, FloatVector, and inlines the operation only from the call site's type
        // profile; compiled before that profile was complete, about one 82M Q6_K export in 40 ran this method on
        // allocated vectors (40 collections, 3.8 s instead of 1.3). Sums take the new term as receiver (float adds
        // commute exactly) and the other uses read a copy made by a blend on a fresh vector (same bits).
        FloatVector zero = FloatVector.zero(F), max = FloatVector.fromArray(F, s.max, 0), scale = zero, best = zero;
        VectorMask<Float> all = F.maskAll(true);
        for (int is = 0; is <= 18; ++is) { // the first pass (is = 0 here), then the reference's is = −9 .. 9 without 0
            float trial = is == 0 ? -nmax : -(nmax + 0.1f * (is <= 9 ? is - 10 : is - 9));
            FloatVector iscale = FloatVector.broadcast(F, trial).div(max), sumlx = zero, suml2 = zero;
            for (int i = 0; i < n; i++) {
                FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS);
                IntVector l = ((IntVector) iscale.mul(xi).add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
                FloatVector lf = (FloatVector) l.convertShape(VectorOperators.I2F, F, 0);
                l.add(nmax).intoArray(s.trial, i * GROUPS);
                sumlx = FloatVector.fromArray(F, s.wx, i * GROUPS).mul(lf).add(sumlx);
                suml2 = FloatVector.fromArray(F, s.w, i * GROUPS).mul(lf).mul(lf).add(suml2);
            }
            FloatVector slx = zero.blend(sumlx, all), sl2 = zero.blend(suml2, all);
            if (is == 0) {
                scale = slx.div(sl2).blend(0f, sl2.compare(VectorOperators.EQ, 0f));
                best = scale.mul(slx);
                System.arraycopy(s.trial, 0, s.best, 0, n * GROUPS);
                continue;
            }
            FloatVector sc = zero.blend(scale, all), bs = zero.blend(best, all);
            VectorMask<Float> better = sl2.compare(VectorOperators.GT, 0f).and(slx.mul(slx).compare(VectorOperators.GT, bs.mul(sl2)));
            if (!better.anyTrue()) continue;
            VectorMask<Integer> take = better.cast(I);
            for (int i = 0; i < n * GROUPS; i += GROUPS)
                IntVector.fromArray(I, s.best, i).blend(IntVector.fromArray(I, s.trial, i), take).intoArray(s.best, i);
            FloatVector trialScale = slx.div(sl2);
            scale = sc.blend(trialScale, better);
            best = bs.blend(trialScale.mul(slx), better);
        }
        zero.blend(scale, all).intoArray(scales, so);
        for (int j = 0; j < GROUPS; j++) {
            if (s.flat[j]) scales[so + j] = 0f;
            for (int i = 0; i < n; i++) L[lo + n * j + i] = s.flat[j] ? 0 : s.best[i * GROUPS + j];
        }
    }
}
