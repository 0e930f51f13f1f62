package dev.lowbit.quantizers;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), in float32 as torch builds it. */
public final class DynamicMap {
    private DynamicMap() {}

    private static final float[] SIGNED = build();
    /** Float bits shifted right by this give a bucket: sign, exponent and the top 3 mantissa bits. */
    private static final int BUCKET_SHIFT = 20;
    /** Per bucket, the least and greatest count of odd-indexed SIGNED entries below a value of the bucket. */
    private static final byte[] ODD_BELOW_MIN = new byte[1 << (32 - BUCKET_SHIFT)], ODD_BELOW_MAX = new byte[1 << (32 - BUCKET_SHIFT)];

    static {
        for (int b = 0; b < ODD_BELOW_MIN.length; b++) {
            int first = oddBelow(Float.intBitsToFloat(b << BUCKET_SHIFT)), last = oddBelow(Float.intBitsToFloat(b << BUCKET_SHIFT | (1 << BUCKET_SHIFT) - 1));
            ODD_BELOW_MIN[b] = (byte) Math.min(first, last);
            ODD_BELOW_MAX[b] = (byte) Math.max(first, last);
        }
    }

    /** How many of SIGNED[1], SIGNED[3], …, SIGNED[253] (ascending) are below x, by bisection (0 for NaN). */
    private static int oddBelow(float x) {
        int lo = 0, hi = 127;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (SIGNED[2 * mid + 1] < x) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public static float[] signed() {
        return SIGNED.clone();
    }

    private static float[] build() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            float[] b = linspace(0.1f, 1f, (1 << i) + 1);
            float scale = (float) Math.pow(10, -(7 - 1) + i);
            for (int j = 0; j + 1 < b.length; j++) {
                float mean = (b[j] + b[j + 1]) / 2.0f;
                data[n++] = scale * mean;
                data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1.0f;
        Arrays.sort(data, 0, n);
        return data;
    }

    /**
     * torch.linspace in float32 on the CPU: start + i·step for the first half, end − (steps−1−i)·step for the rest,
     * each rounded once (torch's kernel is compiled with fused multiply-adds; two roundings leave 21 of the 256 map
     * values 1–2 ulp off bitsandbytes').
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) out[i] = i < half ? Math.fma(step, i, start) : Math.fma(-step, steps - i - 1, end);
        return out;
    }

    /**
     * bitsandbytes' dQuantize (csrc/kernels.cu, not stochastic): a 7-step binary search from pivot 127 over the
     * 256-entry sorted map, then the float32 midpoint between the final pivot and the last bound on x's side decides.
     */
    public static int quantize(float[] map, float x) {
        int pivot = 127, upperPivot = 255, lowerPivot = 0;
        float lower = -1.0f, upper = 1.0f, val = map[pivot];
        for (int i = 64; i > 0; i >>= 1) {
            if (x > val) {
                lowerPivot = pivot;
                lower = val;
                pivot += i;
            } else {
                upperPivot = pivot;
                upper = val;
                pivot -= i;
            }
            val = map[pivot];
        }
        if (upperPivot == 255) upper = map[upperPivot];
        if (lowerPivot == 0) lower = map[lowerPivot];
        if (x > val) return x > (upper + val) * 0.5f ? upperPivot : pivot;
        return x < (lower + val) * 0.5f ? lowerPivot : pivot;
    }

    /**
     * {@link #quantize} on the signed map without the search's dependent loads and mispredicted branches (a third of a
     * 1.1B double quantization's time): its seven steps compare x with the odd-indexed entries only and end on the even
     * index p = 2·(how many of those are below x), whose neighbours p − 1 and p + 1 are the last pivots on each side. That
     * count is read from a table by x's sign, exponent and top mantissa bits, then finished by a compare or two.
     */
    public static int signedCode(float x) {
        int bucket = Float.floatToRawIntBits(x) >>> BUCKET_SHIFT, t = ODD_BELOW_MIN[bucket], max = ODD_BELOW_MAX[bucket];
        while (t < max && SIGNED[2 * t + 1] < x) t++;
        int p = 2 * t;
        float val = SIGNED[p];
        if (x > val) return x > (SIGNED[p + 1] + val) * 0.5f ? p + 1 : p;
        return p > 0 && x < (SIGNED[p - 1] + val) * 0.5f ? p - 1 : p;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(I.length() * 8));
    /** The lanes take a group's 16 thresholds from one vector of 16 lanes or two of 8 (AVX-512, AVX2). */
    private static final boolean LANES = I.length() == 16 || I.length() == 8;
    /**
     * The 255 thresholds between neighbouring entries k, k + 1 of SIGNED, as {@link #signedCode} decides: a value is
     * past threshold k when it is above (SIGNED[k] + SIGNED[k + 1]) · 0.5f for even k and at or above it for odd k
     * (the float below it, compared with &gt;). The code is how many thresholds a value is past (0 for NaN).
     */
    private static final float[] PAST = new float[255];
    /** Thresholds 16g + 15 (g = 0 … 14): how many of them a value is past is its group g of 16 codes. */
    private static final float[] GROUP_END = new float[15];
    /** GROUP_THRESHOLD[j][g] = threshold 16g + j (j = 0 … 14) as float bits, looked up per lane by its group. */
    private static final int[][] GROUP_THRESHOLD = new int[15][16];

    static {
        for (int k = 0; k < 255; k++) {
            float mid = (SIGNED[k] + SIGNED[k + 1]) * 0.5f;
            PAST[k] = (k & 1) == 1 ? Math.nextDown(mid) : mid;
        }
        for (int g = 0; g < 15; g++) GROUP_END[g] = PAST[16 * g + 15];
        for (int j = 0; j < 15; j++)
            for (int g = 0; g < 16; g++) GROUP_THRESHOLD[j][g] = Float.floatToRawIntBits(PAST[16 * g + j]);
    }

    /**
     * codes[i] = {@link #signedCode}((x[i] − offset) · inv) for i in [lo, hi), as double quantization codes a nested
     * block, in vector lanes without table reads: a lane's group of 16 codes is how many of the 15 group ends it is
     * past, then its code within the group how many of the group's 15 other thresholds, each picked per lane by a
     * rearrangement of one vector (two, blended, with 8 lanes). 1.2 ns a value with 16 lanes, 2.3 with 8, against
     * 13-15 for the scalar twin, whose search mispredicts. Counts are kept negative (a mask as a vector is −1 per
     * lane), so no operation's receiver is a vector carried from a previous step (see {@link Nf4Codes}).
     */
    public static void signedCodes(float[] x, int lo, int hi, float offset, float inv, byte[] codes) {
        int l = F.length(), i = lo;
        for (; LANES && i <= hi - l; i += l) {
            FloatVector v = FloatVector.fromArray(F, x, i).sub(offset).mul(inv);
            IntVector minusGroup = IntVector.zero(I);
            for (int g = 0; g < GROUP_END.length; g++)
                minusGroup = ((IntVector) v.compare(VectorOperators.GT, GROUP_END[g]).cast(I).toVector()).add(minusGroup);
            IntVector group = IntVector.zero(I).sub(minusGroup);
            VectorShuffle<Integer> pick = group.and(l - 1).toShuffle();
            VectorMask<Float> upper = group.compare(VectorOperators.GE, l).cast(F);
            IntVector minusCode = group.lanewise(VectorOperators.LSHL, 4).neg();
            for (int j = 0; j < GROUP_THRESHOLD.length; j++) {
                FloatVector t = (FloatVector) IntVector.fromArray(I, GROUP_THRESHOLD[j], 0).rearrange(pick).reinterpretShape(F, 0);
                if (l < 16) t = t.blend((FloatVector) IntVector.fromArray(I, GROUP_THRESHOLD[j], l).rearrange(pick).reinterpretShape(F, 0), upper);
                minusCode = ((IntVector) v.compare(VectorOperators.GT, t).cast(I).toVector()).add(minusCode);
            }
            ((ByteVector) IntVector.zero(I).sub(minusCode).convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, i);
        }
        for (; i < hi; i++) codes[i] = (byte) signedCode((x[i] - offset) * inv);
    }
}
