package dev.lowbit.kernels;

import dev.lowbit.quantizers.format.BlockDots;

/**
 * The matrix multiply for a few tokens (one decoding step, or one per beam): each block of weight rows is decoded
 * once into a small per-thread buffer and dotted with every token, with no k-major panel. Kernels.matmul's panels pay
 * for their transpose over many tokens; for one token the transpose costs as much as the multiply. Decoding is bound
 * by reading the weights, so the only goal here is to read each weight byte once, from all threads.
 */
public final class MatVec {
    private MatVec() {}

    /** Up to this many tokens the matrix-vector path is the faster one. */
    public static final int MAX_TOKENS = 8;
    /** Rows decoded at once: a few KiB of floats per thread, so they stay in L1/L2 while every token is dotted. */
    static final int ROWS = 8;

    private static final ThreadLocal<float[]> DECODED = new ThreadLocal<>();

    /** out[t][r] = x[t] · w[r] (+ bias[r]) for x [tokens × w.cols()], out [tokens × w.rows()]. */
    public static void matmul(VectorOps ops, Weights w, float[] x, int tokens, float[] out, float[] bias) {
        int rows = w.rows(), cols = w.cols();
        if (ops instanceof PanamaOps && w instanceof BlockWeights bw && BlockDots.supports(bw.type())) {
            fused(bw, x, tokens, out, bias);
            return;
        }
        int blocks = (rows + ROWS - 1) / ROWS;
        int tasks = Math.min(blocks, Kernels.threads() * 4);
        Kernels.parallel(tasks, task -> {
            float[] decoded = DECODED.get();
            if (decoded == null || decoded.length < ROWS * cols) DECODED.set(decoded = new float[ROWS * cols]);
            int b0 = (int) ((long) blocks * task / tasks), b1 = (int) ((long) blocks * (task + 1) / tasks);
            for (int b = b0; b < b1; b++) {
                int r0 = b * ROWS, rn = Math.min(ROWS, rows - r0);
                w.decodeRows(r0, rn, decoded);
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rn; r++) {
                        float s = ops.dot(x, t * cols, decoded, r * cols, cols);
                        out[t * rows + r0 + r] = bias == null ? s : s + bias[r0 + r];
                    }
            }
        });
    }

    /** Rows of a format with a fused dot ({@link BlockDots}): each row's blocks dotted with every token, never decoded. */
    private static void fused(BlockWeights w, float[] x, int tokens, float[] out, float[] bias) {
        int rows = w.rows(), cols = w.cols();
        long rowBytes = w.type().rowBytes(cols);
        int tasks = Math.min(rows, Kernels.threads() * 4);
        Kernels.parallel(tasks, task -> {
            float[] lanes = new float[BlockDots.lanes()];
            int r0 = (int) ((long) rows * task / tasks), r1 = (int) ((long) rows * (task + 1) / tasks);
            for (int r = r0; r < r1; r++)
                for (int t = 0; t < tokens; t++) {
                    float s = BlockDots.dot(w.type(), w.data(), r * rowBytes, cols, x, t * cols, lanes);
                    out[t * rows + r] = bias == null ? s : s + bias[r];
                }
        });
    }
}
