package dev.lowbit.quantizers.format;

/**
 * Whether Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q6_K encode in vector lanes ({@link Q8_0#quantizeLanes},
 * {@link Q4_0#quantizeLanes}, {@link Q4_1#quantizeLanes}, {@link Q5_0#quantizeLanes}, {@link Q5_1#quantizeLanes},
 * {@link QxLanes}) or with their scalar twins: the same bytes either way. The lanes are 4-5 times faster once C2 has
 * compiled them, but until then their vector operations run as allocated objects, and compiling them costs a few
 * hundred milliseconds of a 2-core machine: an 82M-parameter model's whole Q4_0 export, 0.85 s with the scalar
 * encoders, took 1.8-2.5 s. A job decides once from the weights it will encode ({@link #forJob}); Q6_K, whose
 * scalar search is slow, from fewer.
 */
public final class LaneEncoders {
    private LaneEncoders() {}

    /** Weights of a job from which the lanes pay (a 1.1B model's Q4_0 export: 4.2-5.0 s scalar, 4.0-4.2 s in lanes). */
    public static final long MIN_WEIGHTS = 500_000_000L;

    /**
     * Q6_K weights of a job from which {@link QxLanes} pay whatever the job's size: Q6_K's scalar search (make_qx_quants,
     * 19 scales tried per group of 16) costs about 32 ns a weight, the lanes 3-5 (one thread, warm), so compiling them
     * pays back far sooner. An 82M model's whole Q6_K export: 2.16-2.39 s scalar, 1.30-1.41 s in lanes (before they
     * took two trials a pass). Its Q4_K_M and Q5_K_M (14M Q6_K weights): 1.46 -> 1.34 s and 1.43 -> 1.29 s with this
     * at 8M instead of 32M (medians of 6, alternating); its Q3_K_M and Q2_K (3M, the output matrix) were 2-5 % slower
     * in lanes, within the noise, and stay scalar.
     */
    public static final long MIN_Q6_K_WEIGHTS = 8_000_000L;

    private static volatile boolean on = true, q6k = true;

    /** Lanes for a job of at least {@link #MIN_WEIGHTS} weights, scalar twins below. */
    public static void forJob(long weights) {
        forJob(weights, 0);
    }

    /** As {@link #forJob(long)}; Q6_K in lanes also when the job has at least {@link #MIN_Q6_K_WEIGHTS} Q6_K weights. */
    public static void forJob(long weights, long q6kWeights) {
        on = weights >= MIN_WEIGHTS;
        q6k = on || q6kWeights >= MIN_Q6_K_WEIGHTS;
    }

    static boolean on() {
        return on && BlockDots.USABLE;
    }

    static boolean q6k() {
        return q6k && BlockDots.USABLE;
    }
}
