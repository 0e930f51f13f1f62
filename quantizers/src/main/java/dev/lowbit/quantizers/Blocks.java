package dev.lowbit.quantizers;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/** Shared helpers of the block quantizers (parallel() is also used by the GGUF export). */
public final class Blocks {
    private Blocks() {}

    public interface RangeBody {
        void run(int lo, int hi);
    }

    private static final ForkJoinPool POOL = new ForkJoinPool(Integer.getInteger("lowbit.threads", Runtime.getRuntime().availableProcessors()));

    /** Runs body over [0, n) in slices of at most `grain`, on a pool of -Dlowbit.threads threads (default: all cores). */
    public static void parallel(int n, int grain, RangeBody body) {
        int slices = (n + grain - 1) / grain;
        if (slices <= 1 || POOL.getParallelism() == 1) {
            for (int s = 0; s < slices; s++) body.run(s * grain, Math.min(n, (s + 1) * grain));
            return;
        }
        POOL.submit(() -> IntStream.range(0, slices).parallel().forEach(s -> body.run(s * grain, Math.min(n, (s + 1) * grain)))).join();
    }

    public static int threads() {
        return POOL.getParallelism();
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
     * max C2 vectorizes; a float max is a serial chain): they order like |v| for finite values, and ±Inf and NaN have
     * the largest, so one compare finds them.
     */
    static float absmax(float[] v, int off, int len, String tensor, long start) {
        int m = 0;
        for (int i = 0; i < len; i++) m = Math.max(m, Float.floatToRawIntBits(v[off + i]) & 0x7fffffff);
        if (m >= 0x7f800000) for (int i = 0; i < len; i++) checkFinite(v[off + i], tensor, start + i);
        return Float.intBitsToFloat(m);
    }

    static void checkFinite(float v, String tensor, long index) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException("tensor '" + tensor + "': value " + v + " at element " + index + " cannot be quantized");
    }
}
