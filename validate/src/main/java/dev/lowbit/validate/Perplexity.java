package dev.lowbit.validate;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.validate.model.Transformer;
import java.util.function.IntConsumer;

/**
 * Perplexity as the reference samples compute it: non-overlapping chunks of ctx tokens from the start (a final
 * partial chunk dropped), each run independently, every token after the first scored, natural log, sums in double.
 */
public final class Perplexity {
    private Perplexity() {}

    /** Result: per-chunk nll sums, total nll, scored tokens, and the sum of squared token nlls for the error. */
    public record Result(int ctx, double[] chunkNll, double nllSum, double nllSqSum, long scored, double seconds) {
        public double ppl() {
            return Math.exp(nllSum / scored);
        }

        /** Standard error of ppl from the token-level spread of nll (delta method, as llama.cpp reports it). */
        public double pplError() {
            double mean = nllSum / scored, var = nllSqSum / scored - mean * mean;
            return ppl() * Math.sqrt(Math.max(var, 0) / Math.max(1, scored - 1));
        }

        public double tokensPerSecond() {
            return chunkNll.length * (double) ctx / seconds;
        }
    }

    public static int chunks(int tokens, int ctx, int maxChunks) {
        int n = tokens / ctx;
        return maxChunks > 0 ? Math.min(n, maxChunks) : n;
    }

    public static Result run(Transformer model, int[] ids, int ctx, int maxChunks, IntConsumer progress) {
        if (ctx < 2) throw new IllegalArgumentException("--ctx must be at least 2");
        int chunks = chunks(ids.length, ctx, maxChunks);
        if (chunks == 0) throw new IllegalArgumentException("the input has " + ids.length + " tokens, fewer than one chunk of --ctx " + ctx);
        double[] chunkNll = new double[chunks];
        double sum = 0, sq = 0;
        long start = System.nanoTime();
        int batch = Math.max(1, BATCH_TOKENS / ctx);
        for (int ch = 0; ch < chunks; ch += batch) {
            int b = Math.min(batch, chunks - ch);
            double[][] nll = tokenNll(model, ids, ch * ctx, ctx, b);
            for (int i = 0; i < b; i++) {
                for (double v : nll[i]) {
                    chunkNll[ch + i] += v;
                    sq += v * v;
                }
                sum += chunkNll[ch + i];
            }
            if (progress != null) progress.accept(ch + b);
        }
        return new Result(ctx, chunkNll, sum, sq, (long) chunks * (ctx - 1), (System.nanoTime() - start) / 1e9);
    }

    /** Chunks shorter than this are run several at a time, so that matrix multiplies see enough rows. */
    static final int BATCH_TOKENS = 512;

    /** Logits held at a time: about this many floats (16 MiB), never [tokens × vocab] (a 32k context × 4k vocab is 512 MiB). */
    static final long LOGIT_FLOATS = 1 << 22;

    /** Rows of logits per lm_head call over `rows` rows: about LOGIT_FLOATS floats, in multiples every model accepts. */
    static int logitStep(int rows, int vocab, Transformer... models) {
        return logitStep(rows, vocab, LOGIT_FLOATS, models);
    }

    static int logitStep(int rows, int vocab, long floats, Transformer... models) {
        int granule = 1;
        for (Transformer m : models) granule = Math.max(granule, m.logitGranule());
        long want = Math.max(1, floats / vocab);
        return (int) Math.min(rows, Math.max(granule, want / granule * granule));
    }

    /**
     * −log p(token[i+1] | tokens ≤ i) for i in 0..n-2 of each of `batch` consecutive chunks of n tokens: the hidden
     * states once, then lm_head and the log-softmax a slice of rows at a time.
     */
    public static double[][] tokenNll(Transformer model, int[] ids, int off, int n, int batch) {
        return tokenNll(model, ids, off, n, batch, LOGIT_FLOATS);
    }

    /** As above, holding about logitFloats floats of logits at a time. */
    static double[][] tokenNll(Transformer model, int[] ids, int off, int n, int batch, long logitFloats) {
        float[] x = model.hidden(ids, off, n, batch);
        int vocab = model.config().vocab(), rows = n * batch, step = logitStep(rows, vocab, logitFloats, model);
        double[][] nll = new double[batch][n - 1];
        float[] logits = new float[step * vocab];
        for (int r0 = 0; r0 < rows; r0 += step) {
            int rn = Math.min(step, rows - r0), first = r0;
            model.logits(x, r0, rn, logits);
            Kernels.parallel(rn, k -> {
                int row = first + k, b = row / n, i = row % n;
                if (i < n - 1) nll[b][i] = logSumExp(logits, k * vocab, vocab) - logits[k * vocab + ids[off + row + 1]];
            });
        }
        return nll;
    }

    static double logSumExp(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp(x[off + i] - max);
        return max + Math.log(s);
    }
}
