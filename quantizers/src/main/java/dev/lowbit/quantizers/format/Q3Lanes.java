package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * make_q3_quants (nmax 4, with its rmse refinement) for 8 or 16 groups of 16 side by side: lane j is group j, and each
 * lane takes the reference's steps in their order (products grouped as written, no fused multiply-add), so each
 * lane's quants and scale are the reference's ({@link GgmlQuants#makeQ3Quants} is the scalar twin). The refinement's
 * accepted changes become masked blends. The reference stops a group after a pass that changed nothing; here all
 * lanes go on until no lane changes, which alters nothing: such a pass leaves its lane as it was, so the next pass
 * would change nothing either. No vector operation is called on a vector carried across iterations (see QxLanes).
 */
final class Q3Lanes {
    private Q3Lanes() {}

    static final VectorSpecies<Float> F = QxLanes.F;
    static final VectorSpecies<Integer> I = QxLanes.I;
    static final int GROUPS = QxLanes.GROUPS;
    static final boolean USABLE = QxLanes.USABLE;
    private static final int N = 16, NMAX = 4;

    /** Per-call scratch: the groups' values and quants transposed (element i of every group side by side). */
    static final class Scratch {
        final float[] x = new float[N * GROUPS], max = new float[GROUPS];
        final int[] l = new int[N * GROUPS];
        final boolean[] flat = new boolean[GROUPS];
    }

    /** Groups j < GROUPS of 16 at x[xo + 16·j ..]: scales[so + j] = make_q3_quants(16, 4, .., true), L[lo + 16·j ..] its quants. */
    static void run(float[] x, int xo, int[] L, int lo, float[] scales, int so, Scratch s) {
        QxLanes.transpose(N, x, xo, s.x, s.max, s.flat); // flat groups: the reference returns quants 0, scale 0
        FloatVector zero = FloatVector.zero(F), iscale = FloatVector.broadcast(F, -NMAX).div(FloatVector.fromArray(F, s.max, 0));
        VectorMask<Float> all = F.maskAll(true);
        FloatVector sumlx = zero, suml2 = zero;
        for (int i = 0; i < N; i++) {
            FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), w = xi.mul(xi);
            IntVector l = quant(iscale.mul(xi));
            l.intoArray(s.l, i * GROUPS);
            FloatVector lf = (FloatVector) l.convertShape(VectorOperators.I2F, F, 0);
            sumlx = w.mul(xi).mul(lf).add(sumlx); // sumlx += w*x*l (float adds commute exactly)
            suml2 = w.mul(lf).mul(lf).add(suml2);
        }
        for (int itry = 0; itry < 5; ++itry) {
            boolean changed = false;
            for (int i = 0; i < N; i++) {
                FloatVector sx = zero.blend(sumlx, all), s2 = zero.blend(suml2, all); // copies of the running sums
                FloatVector xi = FloatVector.fromArray(F, s.x, i * GROUPS), w = xi.mul(xi), wx = w.mul(xi);
                IntVector li = IntVector.fromArray(I, s.l, i * GROUPS);
                FloatVector lf = (FloatVector) li.convertShape(VectorOperators.I2F, F, 0);
                FloatVector slx = sx.sub(wx.mul(lf));
                VectorMask<Float> positive = slx.compare(VectorOperators.GT, 0f);
                if (!positive.anyTrue()) continue;
                FloatVector sl2 = s2.sub(w.mul(lf).mul(lf));
                IntVector nl = quant(xi.mul(sl2).div(slx));
                FloatVector nlf = (FloatVector) nl.convertShape(VectorOperators.I2F, F, 0);
                FloatVector slxNew = slx.add(wx.mul(nlf)), sl2New = sl2.add(w.mul(nlf).mul(nlf));
                VectorMask<Float> take = positive.and(nl.compare(VectorOperators.NE, li).cast(F)).and(sl2New.compare(VectorOperators.GT, 0f))
                        .and(slxNew.mul(slxNew).mul(s2).compare(VectorOperators.GT, sx.mul(sx).mul(sl2New)));
                if (!take.anyTrue()) continue;
                changed = true;
                li.blend(nl, take.cast(I)).intoArray(s.l, i * GROUPS);
                sumlx = sx.blend(slxNew, take);
                suml2 = s2.blend(sl2New, take);
            }
            if (!changed) break;
        }
        zero.blend(sumlx, all).div(zero.blend(suml2, all)).intoArray(scales, so);
        for (int j = 0; j < GROUPS; j++) {
            if (s.flat[j]) scales[so + j] = 0f;
            for (int i = 0; i < N; i++) L[lo + N * j + i] = s.flat[j] ? 0 : s.l[i * GROUPS + j] + NMAX;
        }
    }

    /** nearest_int(v) clamped to [−4, 3], as the reference (the float trick v + 1.5·2²³). */
    private static IntVector quant(FloatVector v) {
        return ((IntVector) v.add(12582912f).reinterpretShape(I, 0)).and(0x007fffff).sub(0x00400000).max(-NMAX).min(NMAX - 1);
    }
}
