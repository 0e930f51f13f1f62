package dev.lowbit.quantizers.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The trial-scale search of make_qkx2_quants with the Vector API, for blocks whose length is a multiple of the vector
 * length. The quants and every per-element product are computed in lanes with the reference's operations in its
 * order (so the same floats), and only the sums, whose order decides their rounding, are added one by one as the
 * reference does. The scalar loops in {@link GgmlQuants#makeQkx2Quants} are the twin (and serve other lengths).
 */
final class Qkx2Trials {
    private Qkx2Trials() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final ThreadLocal<float[]> PRODUCTS = ThreadLocal.withInitial(() -> new float[9 * 64]);
    private static final ThreadLocal<int[]> QUANTS = ThreadLocal.withInitial(() -> new int[3 * 64]);

    static boolean fits(int n) {
        return n % L == 0 && n <= 64 && I.length() == L;
    }

    /**
     * make_qkx2_quants' search over the trial scales is = 0..nstep from the state its first pass left (min, max,
     * sumW, sumX, bestError, scale; best quants already in L[lo ..]): returns {scale, min}. Three trials run side by
     * side: their sums are three times three chains of additions instead of one trial's three, each still in index
     * order. A better trial moves min, which later trials start from; trials already computed with the old min are
     * then run again, so the result is the reference's.
     */
    static float[] search(int n, int nmax, float[] x, int xo, float[] w, int[] L, int lo, float rmin, float rdelta, int nstep, boolean useMad,
            float sumW, float sumX, float min, float max, float bestError, float scale) {
        float[] p = PRODUCTS.get();
        int[] la = QUANTS.get();
        float[] t = new float[9];
        for (int is = 0; is <= nstep; ) {
            int k = Math.min(3, nstep + 1 - is);
            for (int j = 0; j < 3; j++) {
                float iscale = (rmin + rdelta * (is + Math.min(j, k - 1)) + nmax) / (max - min);
                products(n, nmax, x, xo, w, min, iscale, la, j * n, p, 3 * j * n);
            }
            float a0 = 0, b0 = 0, c0 = 0, a1 = 0, b1 = 0, c1 = 0, a2 = 0, b2 = 0, c2 = 0;
            for (int i = 0; i < n; i++) {
                a0 += p[i];
                b0 += p[n + i];
                c0 += p[2 * n + i];
                a1 += p[3 * n + i];
                b1 += p[4 * n + i];
                c1 += p[5 * n + i];
                a2 += p[6 * n + i];
                b2 += p[7 * n + i];
                c2 += p[8 * n + i];
            }
            solve(sumW, sumX, a0, b0, c0, t, 0);
            solve(sumW, sumX, a1, b1, c1, t, 3);
            solve(sumW, sumX, a2, b2, c2, t, 6);
            for (int j = 0; j < 3; j++) errorProducts(n, x, xo, w, la, j * n, t[3 * j + 1], t[3 * j + 2], useMad, p, j * n);
            float e0 = 0, e1 = 0, e2 = 0;
            for (int i = 0; i < n; i++) {
                e0 += p[i];
                e1 += p[n + i];
                e2 += p[2 * n + i];
            }
            int done = k;
            for (int j = 0; j < k; j++) {
                if (!(t[3 * j] > 0)) continue; // D > 0
                float curError = j == 0 ? e0 : j == 1 ? e1 : e2;
                if (curError < bestError) {
                    System.arraycopy(la, j * n, L, lo, n);
                    bestError = curError;
                    scale = t[3 * j + 1];
                    boolean moved = Float.floatToRawIntBits(t[3 * j + 2]) != Float.floatToRawIntBits(min);
                    min = t[3 * j + 2];
                    if (moved && j < k - 1) {
                        done = j + 1; // the trials after it started from the old min
                        break;
                    }
                }
            }
            is += done;
        }
        return new float[] {scale, min};
    }

    /** D = sumW·sumL2 − sumL² at t[o]; when D > 0 the least-squares scale and min (min ≤ 0) at t[o+1], t[o+2]. */
    private static void solve(float sumW, float sumX, float sumL, float sumL2, float sumXl, float[] t, int o) {
        float D = sumW * sumL2 - sumL * sumL;
        float thisScale = 0, thisMin = 0;
        if (D > 0) {
            thisScale = (sumW * sumXl - sumX * sumL) / D;
            thisMin = (sumL2 * sumX - sumL * sumXl) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXl / sumL2;
            }
        }
        t[o] = D;
        t[o + 1] = thisScale;
        t[o + 2] = thisMin;
    }

    /** Quants for iscale and min into la[lo ..], and w·l, w·l·l, w·l·x into p[po ..], p[po+n ..], p[po+2n ..]. */
    private static void products(int n, int nmax, float[] x, int xo, float[] w, float min, float iscale, int[] la, int lo, float[] p, int po) {
        for (int i = 0; i < n; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + i), wv = FloatVector.fromArray(F, w, i);
            IntVector bits = (IntVector) xv.sub(min).mul(iscale).add(12582912.f).reinterpretShape(I, 0); // nearest_int
            IntVector l = bits.and(0x007fffff).sub(0x00400000).min(nmax).max(0);
            l.intoArray(la, lo + i);
            FloatVector lf = (FloatVector) l.convertShape(VectorOperators.I2F, F, 0);
            FloatVector wl = wv.mul(lf);
            wl.intoArray(p, po + i);
            wl.mul(lf).intoArray(p, po + n + i);
            wl.mul(xv).intoArray(p, po + 2 * n + i);
        }
    }

    /** w·d into p[po ..], d = (scale·l + min − x)² (or |·| with useMad) for the quants la[lo ..]. */
    private static void errorProducts(int n, float[] x, int xo, float[] w, int[] la, int lo, float scale, float min, boolean useMad, float[] p, int po) {
        for (int i = 0; i < n; i += L) {
            FloatVector lf = (FloatVector) IntVector.fromArray(I, la, lo + i).convertShape(VectorOperators.I2F, F, 0);
            FloatVector d = lf.mul(scale).add(min).sub(FloatVector.fromArray(F, x, xo + i));
            d = useMad ? d.abs() : d.mul(d);
            FloatVector.fromArray(F, w, i).mul(d).intoArray(p, po + i);
        }
    }
}
