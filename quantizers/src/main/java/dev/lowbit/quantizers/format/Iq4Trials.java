package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The scale search of quantize_row_iq4_nl_impl for one block, with the Vector API: the first pass and the 2·ntry + 1
 * trial scales. Each value's nearest kvalues_iq4nl entry is found in lanes without branches (best_index_int8's
 * bisection mispredicts on every other value, most of an IQ4 encode), the products w·q·x and w·q·q in lanes with the
 * reference's operations, and only the sums, whose order decides their rounding, are added one by one in index order,
 * three trials side by side. The scalar loops in {@link GgmlQuants#quantizeIq4NlImpl} are the twin.
 */
final class Iq4Trials {
    private Iq4Trials() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final float[] VALUES = new float[16];
    private static final ThreadLocal<float[]> PRODUCTS = ThreadLocal.withInitial(() -> new float[6 * 64]);

    static {
        for (int i = 0; i < 16; i++) VALUES[i] = GgmlQuants.KVALUES_IQ4NL[i];
    }

    static boolean fits(int n) {
        return n % L == 0 && n <= 64 && I.length() == L;
    }

    /**
     * The block's scale d as the reference searches it (amax ≥ GROUP_MAX_EPS; max is the value of largest
     * magnitude); L[lb ..] receive the first pass's indices.
     */
    static float search(int n, float[] x, int xb, float[] weight, int[] idx, int lb, float max, int ntry) {
        float[] p = PRODUCTS.get();
        float d = ntry > 0 ? -max / VALUES[0] : max / VALUES[0];
        products(n, x, xb, weight, 1 / d, idx, lb, p, 0);
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < n; ++j) {
            sumqx += p[j];
            sumq2 += p[n + j];
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; itry += 3) {
            int k = Math.min(3, ntry + 1 - itry);
            for (int t = 0; t < 3; t++) products(n, x, xb, weight, (itry + Math.min(t, k - 1) + GgmlQuants.KVALUES_IQ4NL[0]) / max, null, 0, p, 2 * t * n);
            float qx0 = 0, q20 = 0, qx1 = 0, q21 = 0, qx2 = 0, q22 = 0;
            for (int j = 0; j < n; ++j) {
                qx0 += p[j];
                q20 += p[n + j];
                qx1 += p[2 * n + j];
                q21 += p[3 * n + j];
                qx2 += p[4 * n + j];
                q22 += p[5 * n + j];
            }
            for (int t = 0; t < k; t++) {
                float qx = t == 0 ? qx0 : t == 1 ? qx1 : qx2, q2 = t == 0 ? q20 : t == 1 ? q21 : q22;
                if (q2 > 0 && qx * qx > best * q2) {
                    d = qx / q2;
                    best = d * qx;
                }
            }
        }
        return d;
    }

    /** idx[lo + j] = best_index_int8(id·x[xb + j]) for j < n. */
    static void indices(int n, float[] x, int xb, float id, int[] idx, int lo) {
        float[] p = PRODUCTS.get();
        products(n, x, xb, null, id, idx, lo, p, 0);
    }

    /**
     * For al = id·x: q = the nearest codebook value as best_index_int8 picks it (its index into idx[lo ..] when idx is
     * not null), and unless w is null, w·q·x, w·q·q into p[po ..], p[po+n ..].
     */
    private static void products(int n, float[] x, int xb, float[] w, float id, int[] idx, int lo, float[] p, int po) {
        float v0 = VALUES[0], v15 = VALUES[15];
        for (int j = 0; j < n; j += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xb + j);
            FloatVector al = xv.mul(id);
            IntVector count = IntVector.zero(I);
            FloatVector below = FloatVector.broadcast(F, v0), above = FloatVector.broadcast(F, v15);
            for (int i = 0; i < 16; i++) {
                VectorMask<Float> le = al.compare(VectorOperators.GE, VALUES[i]); // VALUES[i] <= al
                count = count.add(1, le.cast(I));
                below = below.blend(VALUES[i], le);
            }
            for (int i = 15; i >= 0; i--) above = above.blend(VALUES[i], al.compare(VectorOperators.LT, VALUES[i]));
            // v0 < al < v15: the bisection ends between the last value <= al and the first above it; ties go up
            VectorMask<Float> lower = al.sub(below).compare(VectorOperators.LT, above.sub(al));
            FloatVector q = above.blend(below, lower);
            VectorMask<Float> first = al.compare(VectorOperators.LE, v0);
            VectorMask<Float> last = al.compare(VectorOperators.GE, v15).or(al.test(VectorOperators.IS_NAN)).andNot(first);
            q = q.blend(v0, first).blend(v15, last);
            if (idx != null) {
                IntVector l = count.sub(1, lower.cast(I));
                l.blend(0, first.cast(I)).blend(15, last.cast(I)).intoArray(idx, lo + j);
            }
            if (w == null) continue;
            FloatVector wq = FloatVector.fromArray(F, w, j).mul(q);
            wq.mul(xv).intoArray(p, po + j);
            wq.mul(q).intoArray(p, po + n + j);
        }
    }
}
