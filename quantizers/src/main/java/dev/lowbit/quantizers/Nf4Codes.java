package dev.lowbit.quantizers;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * NF4 codes of a block with the Vector API: per lane, how many of bitsandbytes' 15 pivots the scaled value exceeds
 * (a compare and a masked add per pivot, no branches). {@link Codebook4#code} is the scalar twin.
 */
public final class Nf4Codes {
    private Nf4Codes() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final float[] PIVOTS = Codebook4.NF4_PIVOTS, VALUES = Codebook4.NF4.table();

    /** codes[i] = NF4 code of clamp(v[i]·inv, −1, 1) for i < len. */
    public static void codes(float[] v, int len, float inv, int[] codes) {
        int i = 0;
        for (; i < F.loopBound(len); i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, v, i).mul(inv).max(-1f).min(1f);
            IntVector c = IntVector.zero(I);
            for (float p : PIVOTS) {
                VectorMask<Float> gt = x.compare(VectorOperators.GT, p);
                c = c.add(1, gt.cast(I));
            }
            c.intoArray(codes, i);
        }
        for (; i < len; i++) codes[i] = Codebook4.NF4.code(Math.max(-1f, Math.min(1f, v[i] * inv)));
    }

    /**
     * One block in one go: codes[i] = NF4 code of clamp(v[off+i]·inv, −1, 1) for i < len (inv = 1/absmax, absmax
     * not 0), and the error of each value against its code's value × scale added to err: the sums of
     * {@link QuantError.Acc#add(float, float)} in double, in lanes (so in another order of additions). The code's value
     * is picked by the same compares that count the pivots (a blend per pivot), not looked up.
     */
    public static void block(float[] v, int off, int len, float inv, float scale, int[] codes, QuantError.Acc err) {
        DoubleVector signal = DoubleVector.zero(D), error = DoubleVector.zero(D), max = DoubleVector.zero(D);
        int i = 0;
        for (; i < F.loopBound(len); i += F.length()) {
            FloatVector o = FloatVector.fromArray(F, v, off + i), x = o.mul(inv).max(-1f).min(1f);
            IntVector c = IntVector.zero(I);
            FloatVector value = FloatVector.broadcast(F, VALUES[0]);
            for (int k = 0; k < PIVOTS.length; k++) {
                VectorMask<Float> gt = x.compare(VectorOperators.GT, PIVOTS[k]);
                c = c.add(1, gt.cast(I));
                value = value.blend(VALUES[k + 1], gt);
            }
            c.intoArray(codes, i);
            FloatVector back = value.mul(scale);
            for (int part = 0; part < F.length() / D.length(); part++) {
                DoubleVector od = (DoubleVector) o.convertShape(VectorOperators.F2D, D, part);
                DoubleVector e = od.sub((DoubleVector) back.convertShape(VectorOperators.F2D, D, part));
                signal = od.fma(od, signal);
                error = e.fma(e, error);
                max = max.max(e.abs());
            }
        }
        double s = signal.reduceLanes(VectorOperators.ADD), e2 = error.reduceLanes(VectorOperators.ADD), m = max.reduceLanes(VectorOperators.MAX);
        for (int j = i; j < len; j++) {
            float x = v[off + j];
            int c = Codebook4.NF4.code(Math.max(-1f, Math.min(1f, x * inv)));
            codes[j] = c;
            double e = (double) x - VALUES[c] * scale;
            s += (double) x * x;
            e2 += e * e;
            m = Math.max(m, Math.abs(e));
        }
        err.add(len, s, e2, m);
    }
}
