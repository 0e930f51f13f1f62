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

    private static final float[] VALUES = Codebook4.NF4.table();

    /**
     * As {@link #codes(float[], int, float, int[])} for the blocks of `block` values of v[off, off + count) (the last
     * may be partial), block k with inv[k]: codes of v[off + i] into codes[cOff + i]; and each value's error against
     * its code's value × scale[k] (what bitsandbytes dequantizes) added to err in the same pass: the pivot compares
     * that count the code also pick its value (a blend per pivot), so no table lookup and no second loop. A block whose
     * inv[k] is 0 is skipped (the caller codes it); the others' inv[k] are finite. The error partials stay in vector
     * lanes across the blocks and reach err once. No vector operation is called on a vector carried across iterations
     * (the code count, the value, the partials): C2 parses such a receiver with its declared type and inlines the operation only from the call site's
     * profile, and compiled before that profile was complete (this method reaches C2 at a twentieth of the usual
     * counts) about one 1.1B NF4 export in 10 ran here on allocated vectors (3.3-3.8 s against 2.4-2.6).
     */
    public static void codes(float[] v, int off, int count, int block, float[] inv, float[] scale, int[] codes, int cOff, QuantError.Acc err) {
        FloatVector sig = FloatVector.zero(F), sq = FloatVector.zero(F);
        IntVector max = IntVector.zero(I);
        int inLanes = 0;
        for (int k = 0, start = 0; start < count; k++, start += block) {
            float iv = inv[k], s = scale[k];
            if (iv == 0) continue;
            int len = Math.min(block, count - start), i = 0;
            for (; i < F.loopBound(len); i += F.length()) {
                FloatVector o = FloatVector.fromArray(F, v, off + start + i), x = o.mul(iv).max(-1f).min(1f), q = FloatVector.broadcast(F, VALUES[0]);
                // x ≤ pivot counted, as −1 per mask lane, for the code 15 − that count (x is not NaN: inv is finite)
                IntVector notBelow = IntVector.zero(I);
                for (int p = 0; p < Codebook4.NF4_PIVOTS.length; p++) {
                    VectorMask<Float> le = x.compare(VectorOperators.LE, Codebook4.NF4_PIVOTS[p]);
                    notBelow = ((IntVector) le.cast(I).toVector()).add(notBelow);
                    q = FloatVector.broadcast(F, VALUES[p + 1]).blend(q, le);
                }
                IntVector.broadcast(I, Codebook4.NF4_PIVOTS.length).add(notBelow).intoArray(codes, cOff + start + i);
                FloatVector e = o.sub(FloatVector.broadcast(F, s).mul(q));
                sig = o.fma(o, sig);
                sq = e.fma(e, sq);
                max = ((IntVector) e.abs().reinterpretShape(I, 0)).max(max);
            }
            inLanes += i;
            for (; i < len; i++) {
                float o = v[off + start + i];
                int c = Codebook4.NF4.code(Math.max(-1f, Math.min(1f, o * iv)));
                codes[cOff + start + i] = c;
                err.add(o, VALUES[c] * s);
            }
        }
        float[] acc = err.running();
        int l = F.length();
        FloatVector.fromArray(F, acc, 0).add(sig).intoArray(acc, 0);
        FloatVector.fromArray(F, acc, l).add(sq).intoArray(acc, l);
        ((FloatVector) ((IntVector) FloatVector.fromArray(F, acc, 2 * l).reinterpretShape(I, 0)).max(max).reinterpretShape(F, 0)).intoArray(acc, 2 * l);
        err.addedLanes(inLanes);
    }
}
