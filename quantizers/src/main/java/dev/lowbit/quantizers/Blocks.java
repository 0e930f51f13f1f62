package dev.lowbit.quantizers;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Shared helpers of the block quantizers (parallel() is also used by the GGUF export). */
public final class Blocks {
    private Blocks() {}

    public interface RangeBody {
        void run(int lo, int hi);
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private static final int THREADS = Math.max(1, Integer.getInteger("lowbit.threads", Runtime.getRuntime().availableProcessors()));
    private static final Team TEAM = new Team(THREADS);

    /** Runs body over [0, n) in slices of at most `grain` on threads() threads ({@link #forEach}). */
    public static void parallel(int n, int grain, RangeBody body) {
        forEach((n + grain - 1) / grain, s -> body.run(s * grain, Math.min(n, (s + 1) * grain)));
    }

    /**
     * Runs body(0 .. n-1) on the calling thread and threads() − 1 workers, which claim chunks of indices from a shared
     * counter ({@link Team}), and waits; -Dlowbit.threads sets threads() (default: all cores). The caller works instead
     * of sleeping: a fork/join pool whose workers joined each other's tasks added compensating threads (four on two
     * cores), which then took turns on the cores.
     */
    public static void forEach(int n, IntConsumer body) {
        TEAM.run(n, body);
    }

    public static int threads() {
        return THREADS;
    }

    static void checkBlock(int block) {
        if (block < 32 || block > 4096 || Integer.bitCount(block) != 1)
            throw new IllegalArgumentException("block size " + block + " must be a power of two from 32 to 4096");
    }

    /** max |x|; NaN or infinite weights are refused: quantizing them would silently spread garbage over the block. */
    static float absmax(float[] v, String tensor, long start) {
        return absmax(v, 0, v.length, tensor, start);
    }

    /**
     * max |v[off, off+len)|, element off being element start of the tensor. Taken over the magnitude bits (an int
     * max, in vector lanes; a float max is a serial chain): they order like |v| for finite values, and ±Inf and NaN have
     * the largest, so one compare finds them.
     */
    static float absmax(float[] v, int off, int len, String tensor, long start) {
        IntVector vm = IntVector.zero(I);
        int i = 0;
        // vm, loop-carried, is only an argument and is read through a copy (see BlockDots.extreme32)
        for (; i < F.loopBound(len); i += F.length()) vm = ((IntVector) FloatVector.fromArray(F, v, off + i).reinterpretShape(I, 0)).and(0x7fffffff).max(vm);
        int m = IntVector.zero(I).blend(vm, I.maskAll(true)).reduceLanes(VectorOperators.MAX); // an integer max: exact in any order
        for (; i < len; i++) m = Math.max(m, Float.floatToRawIntBits(v[off + i]) & 0x7fffffff);
        if (m >= 0x7f800000) for (int j = 0; j < len; j++) checkFinite(v[off + j], tensor, start + j);
        return Float.intBitsToFloat(m);
    }

    /** {@link FloatSource#blockAbsmax} through the source's floats, a span of whole blocks per read. */
    static void blockAbsmax(FloatSource src, int block, int b0, int b1, float[] out, float[] scratch, String name) {
        int span = scratch.length / block;
        for (int s0 = b0; s0 < b1; s0 += span) {
            int s1 = Math.min(b1, s0 + span);
            float[] v = read(src, block, s0, s1, scratch);
            for (int b = s0; b < s1; b++) {
                int off = (b - s0) * block;
                out[b] = absmax(v, off, Math.min(block, v.length - off), name, (long) b * block);
            }
        }
    }

    /**
     * The values of blocks [b0, b1) of src (the tensor's last block may be partial): into buf when they fill it, else
     * into a new array of their count.
     */
    static float[] read(FloatSource src, int block, int b0, int b1, float[] buf) {
        long first = (long) b0 * block;
        int count = (int) (Math.min(src.numel(), (long) b1 * block) - first);
        float[] v = count == buf.length ? buf : new float[count];
        src.read(first, v);
        return v;
    }

    static void checkFinite(float v, String tensor, long index) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException("tensor '" + tensor + "': value " + v + " at element " + index + " cannot be quantized");
    }
}
