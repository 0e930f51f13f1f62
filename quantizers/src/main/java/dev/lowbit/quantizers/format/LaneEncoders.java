package dev.lowbit.quantizers.format;

/**
 * Whether Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q6_K encode in vector lanes ({@link Q8_0#quantizeLanes},
 * {@link Q4_0#quantizeLanes}, {@link Q4_1#quantizeLanes}, {@link Q5_0#quantizeLanes}, {@link Q5_1#quantizeLanes},
 * {@link QxLanes}) or with their scalar twins: the same bytes either way. The lanes are 4-5 times faster once C2 has
 * compiled them, but until then their vector operations run as allocated objects, and compiling them costs a few
 * hundred milliseconds of a 2-core machine: an 82M-parameter model's whole Q4_0 export, 0.85 s with the scalar
 * encoders, took 1.8-2.5 s. A job decides once from the weights it will encode ({@link #forJob}).
 */
public final class LaneEncoders {
    private LaneEncoders() {}

    /** Weights of a job from which the lanes pay (a 1.1B model's Q4_0 export: 4.2-5.0 s scalar, 4.0-4.2 s in lanes). */
    public static final long MIN_WEIGHTS = 500_000_000L;

    private static volatile boolean on = true;

    /** Lanes for a job of at least {@link #MIN_WEIGHTS} weights, scalar twins below. */
    public static void forJob(long weights) {
        on = weights >= MIN_WEIGHTS;
    }

    static boolean on() {
        return on && BlockDots.USABLE;
    }
}
