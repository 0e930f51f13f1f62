package dev.lowbit.kernels;

import dev.lowbit.quantizers.Blocks;
import java.util.function.IntConsumer;

/**
 * Start-up choice of the kernel implementation and the blocked, multithreaded matrix multiply.
 * Set -Dlowbit.kernels=scalar to run the scalar twins.
 */
public final class Kernels {
    private Kernels() {}

    private static final VectorOps OPS = choose();
    static final int TOKEN_BLOCK = 512;

    private static VectorOps choose() {
        if ("scalar".equals(System.getProperty("lowbit.kernels"))) return new ScalarOps();
        try {
            return new PanamaOps();
        } catch (LinkageError e) {
            return new ScalarOps();
        }
    }

    public static VectorOps ops() {
        return OPS;
    }

    public static int threads() {
        return Blocks.threads();
    }

    /** out[t][r] = x[t] · w[r] (+ bias[r]): x is [tokens × w.cols()], out is [tokens × w.rows()]. */
    public static void matmul(Weights w, float[] x, int tokens, float[] out, float[] bias) {
        matmul(OPS, w, x, tokens, out, bias);
    }

    public static void matmul(VectorOps ops, Weights w, float[] x, int tokens, float[] out, float[] bias) {
        matmul(ops, new Weights[] {w}, x, tokens, new float[][] {out}, new float[][] {bias});
    }

    /**
     * out[i][t][r] = x[t] · ws[i][r] (+ biases[i][r]) for several weights of the same input (q, k and v; gate and up) in
     * one parallel job over all their panels: one wait for the slowest thread instead of one per weight, and small
     * weights (k and v of grouped-query attention) no longer leave a thread idle at the end of their own job.
     */
    public static void matmul(VectorOps ops, Weights[] ws, float[] x, int tokens, float[][] outs, float[][] biases) {
        int cols = ws[0].cols(), width = ops.panelRows();
        int[] first = firstBlocks(ws, width);
        int blocks = first[ws.length];
        int tasks = Math.min(blocks, threads() * 8);
        parallel(tasks, task -> {
            float[] decoded = scratch(DECODED, width * cols), panel = scratch(PANEL, width * cols);
            int b0 = (int) ((long) blocks * task / tasks), b1 = (int) ((long) blocks * (task + 1) / tasks);
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                int tn = Math.min(TOKEN_BLOCK, tokens - t0);
                for (int b = b0, i = 0; b < b1; b++) {
                    while (b >= first[i + 1]) i++;
                    Weights w = ws[i];
                    int rows = w.rows(), r0 = (b - first[i]) * width, rn = Math.min(width, rows - r0);
                    w.decodeRows(r0, rn, decoded);
                    ops.toPanel(decoded, rn, cols, width, panel);
                    ops.matmulPanel(x, t0 * cols, tn, cols, panel, 0, rn, outs[i], t0 * rows + r0, rows);
                }
            }
        });
        for (int i = 0; i < ws.length; i++) {
            float[] out = outs[i], bias = biases[i];
            int rows = ws[i].rows();
            if (bias != null) parallel(tokens, t -> ops.add(out, t * rows, bias, 0, rows));
        }
    }

    /**
     * first[i] = the index of weight i's first block of `unit` rows in the blocks of all ws one after another, first[n]
     * = their count. The weights must share their columns (one input).
     */
    static int[] firstBlocks(Weights[] ws, int unit) {
        int[] first = new int[ws.length + 1];
        for (int i = 0; i < ws.length; i++) {
            if (ws[i].cols() != ws[0].cols())
                throw new IllegalArgumentException("weights of one input need the same columns, not " + ws[0].cols() + " and " + ws[i].cols());
            first[i + 1] = first[i] + (ws[i].rows() + unit - 1) / unit;
        }
        return first;
    }

    private static final ThreadLocal<float[]> DECODED = new ThreadLocal<>(), PANEL = new ThreadLocal<>();

    /** A per-thread buffer of at least n floats, reused across calls. */
    private static float[] scratch(ThreadLocal<float[]> slot, int n) {
        float[] a = slot.get();
        if (a == null || a.length < n) slot.set(a = new float[n]);
        return a;
    }

    /** Runs body(0 .. n-1) on the calling thread and threads() − 1 workers and waits ({@link Blocks#forEach}). */
    public static void parallel(int n, IntConsumer body) {
        Blocks.forEach(n, body);
    }
}
