package dev.lowbit.quantizers;

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

    /** codes[i] = NF4 code of clamp(v[i]·inv, −1, 1) for i < len. */
    public static void codes(float[] v, int len, float inv, int[] codes) {
        int i = 0;
        for (; i < F.loopBound(len); i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, v, i).mul(inv).max(-1f).min(1f);
            IntVector c = IntVector.zero(I);
            for (float p : Codebook4.NF4_PIVOTS) {
                VectorMask<Float> gt = x.compare(VectorOperators.GT, p);
                c = c.add(1, gt.cast(I));
            }
            c.intoArray(codes, i);
        }
        for (; i < len; i++) codes[i] = Codebook4.NF4.code(Math.max(-1f, Math.min(1f, v[i] * inv)));
    }
}
