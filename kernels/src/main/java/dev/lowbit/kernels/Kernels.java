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
        int rows = w.rows(), cols = w.cols(), width = ops.panelRows();
        int blocks = (rows + width - 1) / width;
        int tasks = Math.min(blocks, threads() * 8);
        parallel(tasks, task -> {
            float[] decoded = scratch(DECODED, width * cols), panel = scratch(PANEL, width * cols);
            int b0 = (int) ((long) blocks * task / tasks), b1 = (int) ((long) blocks * (task + 1) / tasks);
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                int tn = Math.min(TOKEN_BLOCK, tokens - t0);
                for (int b = b0; b < b1; b++) {
                    int r0 = b * width, rn = Math.min(width, rows - r0);
                    w.decodeRows(r0, rn, decoded);
                    ops.toPanel(decoded, rn, cols, width, panel);
                    ops.matmulPanel(x, t0 * cols, tn, cols, panel, 0, rn, out, t0 * rows + r0, rows);
                }
            }
        });
        if (bias != null) parallel(tokens, t -> ops.add(out, t * rows, bias, 0, rows));
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
