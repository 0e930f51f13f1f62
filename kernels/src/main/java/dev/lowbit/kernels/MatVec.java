package dev.lowbit.kernels;

import dev.lowbit.quantizers.format.BlockDots;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.MemorySegment;

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
    private static final WeightFormat F16 = WeightFormats.named("F16"), BF16 = WeightFormats.named("BF16");

    /** out[t][r] = x[t] · w[r] (+ bias[r]) for x [tokens × w.cols()], out [tokens × w.rows()]. */
    public static void matmul(VectorOps ops, Weights w, float[] x, int tokens, float[] out, float[] bias) {
        matmul(ops, new Weights[] {w}, x, tokens, new float[][] {out}, new float[][] {bias});
    }

    /**
     * The same for several weights of one input (q, k, v; gate, up) as one parallel job over all their rows
     * ({@link Kernels#matmul(VectorOps, Weights[], float[], int, float[][], float[][])}): a token runs about a hundred
     * jobs, and each ends waiting for the slowest thread. Rows of a format with a fused dot ({@link BlockDots}) are
     * dotted straight from their blocks, as are bitsandbytes' 4-bit rows ({@link FourBitWeights}, whole blocks a row); others
     * are decoded ROWS at a time into a per-thread buffer. x is split into even and odd elements once, on the calling
     * thread, when a weight takes it so.
     */
    public static void matmul(VectorOps ops, Weights[] ws, float[] x, int tokens, float[][] outs, float[][] biases) {
        int cols = ws[0].cols();
        int[] first = Kernels.firstBlocks(ws, ROWS);
        int groups = first[ws.length];
        int tasks = Math.min(groups, Kernels.threads() * 4);
        float[] split = null; // x's tokens split into even and odd elements, for formats that take them so
        for (Weights w : ws)
            if (ops instanceof PanamaOps && splitsX(w, cols)) {
                split = new float[tokens * cols];
                for (int t = 0; t < tokens; t++) BlockDots.split(x, t * cols, cols, split, t * cols);
                break;
            }
        float[] xs = split;
        Kernels.parallel(tasks, task -> {
            float[] lanes = new float[BlockDots.scratch(cols)];
            int g0 = (int) ((long) groups * task / tasks), g1 = (int) ((long) groups * (task + 1) / tasks);
            for (int g = g0, i = 0; g < g1; g++) {
                while (g >= first[i + 1]) i++;
                Weights w = ws[i];
                float[] out = outs[i], bias = biases[i];
                int rows = w.rows(), r0 = (g - first[i]) * ROWS, rn = Math.min(ROWS, rows - r0);
                WeightFormat fused = ops instanceof PanamaOps ? fusedFormat(w) : null;
                if (fused != null) {
                    MemorySegment data = data(w);
                    long rowBytes = fused.rowBytes(cols);
                    float[] in = BlockDots.splitsX(fused) ? xs : x;
                    for (int r = r0; r < r0 + rn; r++)
                        for (int t = 0; t < tokens; t++) {
                            float s = BlockDots.dot(fused, data, r * rowBytes, cols, in, t * cols, lanes);
                            out[t * rows + r] = bias == null ? s : s + bias[r];
                        }
                    continue;
                }
                if (ops instanceof PanamaOps && w instanceof FourBitWeights fb && BlockDots.supportsBnb(fb.block(), cols)) {
                    float[] values = fb.codebook().table();
                    for (int r = r0; r < r0 + rn; r++)
                        for (int t = 0; t < tokens; t++) {
                            float s = BlockDots.bnbFourBit(values, fb.block(), fb.packed(), fb.absmax(), (long) r * cols, cols, xs, t * cols, lanes);
                            out[t * rows + r] = bias == null ? s : s + bias[r];
                        }
                    continue;
                }
                float[] decoded = DECODED.get();
                if (decoded == null || decoded.length < ROWS * cols) DECODED.set(decoded = new float[ROWS * cols]);
                w.decodeRows(r0, rn, decoded);
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rn; r++) {
                        float s = ops.dot(x, t * cols, decoded, r * cols, cols);
                        out[t * rows + r0 + r] = bias == null ? s : s + bias[r0 + r];
                    }
            }
        });
    }

    /** Whether w's rows are dotted from memory with x split into even and odd elements ({@link BlockDots#split}). */
    private static boolean splitsX(Weights w, int cols) {
        WeightFormat f = fusedFormat(w);
        return f != null ? BlockDots.splitsX(f) : w instanceof FourBitWeights fb && BlockDots.supportsBnb(fb.block(), cols);
    }

    /** The stored format of w when BlockDots dots its rows straight from memory, else null. */
    private static WeightFormat fusedFormat(Weights w) {
        WeightFormat f = switch (w) {
            case BlockWeights bw -> bw.type();
            case F16Weights x -> F16;
            case Bf16Weights x -> BF16;
            default -> null;
        };
        return f != null && BlockDots.supports(f) ? f : null;
    }

    private static MemorySegment data(Weights w) {
        return switch (w) {
            case BlockWeights bw -> bw.data();
            case F16Weights x -> x.data();
            case Bf16Weights x -> x.data();
            default -> throw new IllegalArgumentException(w.format() + " has no stored rows");
        };
    }
}
