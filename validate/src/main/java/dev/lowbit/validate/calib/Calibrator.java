package dev.lowbit.validate.calib;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.VectorOps;
import dev.lowbit.kernels.Weights;
import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.validate.model.ActivationObserver;
import dev.lowbit.validate.model.Transformer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a model over calibration tokens, as llama-imatrix does: the token stream (tokenized with BOS) is cut into
 * chunks of ctx tokens from the start, a final partial chunk dropped; the first token of each chunk is replaced by BOS
 * when the tokenizer adds one; each chunk is one independent forward pass. The input of every linear layer of the
 * blocks (and of output.weight when asked) is summed: x² per column and the token count, x·xᵀ when asked. Weights
 * fed the same input (q/k/v, gate/up) share one set of sums. Memory: one chunk's activations plus the sums.
 */
public final class Calibrator {
    private Calibrator() {}

    /** ctx tokens per chunk; at most maxChunks chunks (0: all); hessian collects x·xᵀ; output includes output.weight. */
    public record Options(int ctx, int maxChunks, boolean hessian, boolean output) {
        public Options {
            if (ctx < 1) throw new IllegalArgumentException("ctx must be positive, not " + ctx);
            if (maxChunks < 0) throw new IllegalArgumentException("max chunks must be 0 (all) or positive, not " + maxChunks);
        }
    }

    /** Told after each chunk. */
    public interface Progress {
        void update(int chunksDone, int chunks);
    }

    /** Chunks the token stream yields under these options. */
    public static int chunks(int tokens, Options o) {
        int n = tokens / o.ctx();
        return o.maxChunks() > 0 ? Math.min(n, o.maxChunks()) : n;
    }

    /**
     * Collects the statistics. tokens: the calibration text tokenized with the special tokens; bos: the id replacing
     * each chunk's first token, or -1 for none; dataset: recorded in the result (imatrix.datasets).
     */
    public static Imatrix run(Transformer model, int[] tokens, int bos, Options o, String dataset, Progress progress) {
        int n = chunks(tokens.length, o);
        if (n == 0) throw new IllegalArgumentException("the calibration text has " + tokens.length + " tokens, fewer than one chunk of " + o.ctx());
        Collector c = new Collector(model.linearNames(), o);
        model.observe(c);
        try {
            int[] chunk = new int[o.ctx()];
            for (int i = 0; i < n; i++) {
                System.arraycopy(tokens, i * o.ctx(), chunk, 0, o.ctx());
                if (bos >= 0) chunk[0] = bos;
                c.lastIn = null;
                model.forward(chunk, 0, o.ctx());
                if (progress != null) progress.update(i + 1, n);
            }
        } finally {
            model.observe(null);
        }
        return new Imatrix(c.byName, List.of(dataset), n, o.ctx());
    }

    /** Sums the inputs; called on the forward pass's thread, one linear at a time. */
    private static final class Collector implements ActivationObserver {
        final Map<Weights, String> names;
        final Options o;
        final Map<String, Imatrix.Stats> byName = new HashMap<>();
        final VectorOps ops = Kernels.ops();
        float[] lastIn;
        Imatrix.Stats lastStats;

        Collector(Map<Weights, String> names, Options o) {
            this.names = names;
            this.o = o;
        }

        @Override
        public void observe(Weights weight, float[] in, int n) {
            String name = names.get(weight);
            if (name == null || (!o.output() && !name.startsWith("blk."))) return;
            int cols = weight.cols();
            Imatrix.Stats s = byName.get(name);
            if (s == null) {
                s = in == lastIn && lastStats.cols() == cols ? lastStats : new Imatrix.Stats(cols, o.hessian());
                byName.put(name, s);
            }
            if (in == lastIn && s == lastStats) return; // the same input, already summed for a sibling weight
            lastIn = in;
            lastStats = s;
            double[] sum2 = s.sum2();
            for (int t = 0; t < n; t++)
                for (int j = 0, off = t * cols; j < cols; j++) sum2[j] += (double) in[off + j] * in[off + j];
            if (s.xtx() != null) addXtx(s.xtx(), in, n, cols);
            s.addCount(n);
        }

        /** xtx[i][·] += Σ_t x[t][i] · x[t][·], one row i per task (in float per chunk, then added to the double sums). */
        private void addXtx(double[] xtx, float[] in, int n, int cols) {
            Kernels.parallel(cols, i -> {
                float[] acc = new float[cols];
                for (int t = 0; t < n; t++) {
                    float a = in[t * cols + i];
                    if (a != 0) ops.axpy(a, in, t * cols, acc, 0, cols);
                }
                for (int j = 0, off = i * cols; j < cols; j++) xtx[off + j] += acc[j];
            });
        }
    }
}
