package dev.lowbit.validate;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.validate.model.Transformer;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Base and candidate over the same chunks, compared position by position as llama.cpp's KL-divergence mode does:
 * only per-token scalars are kept (nll of each, KL(base‖candidate), p(target) of each, top-1 of each), and logits
 * only for a slice of rows at a time (lm_head applied to the hidden states slice by slice).
 */
public final class Drift {
    private Drift() {}

    /** Per scored token, in order: chunk, position, target id and the compared quantities. */
    public record Tokens(int[] chunk, int[] position, int[] target, double[] nllBase, double[] nllCand, double[] kld,
                         double[] pBase, double[] pCand, int[] top1Base, int[] top1Cand) {
        public int size() {
            return chunk.length;
        }
    }

    public static Tokens run(Transformer base, Transformer cand, int[] ids, int ctx, int maxChunks, IntConsumer progress) {
        return run(base, cand, ids, ctx, maxChunks, progress, Perplexity.LOGIT_FLOATS);
    }

    /** As above, holding about logitFloats floats of logits per model at a time. */
    static Tokens run(Transformer base, Transformer cand, int[] ids, int ctx, int maxChunks, IntConsumer progress, long logitFloats) {
        if (base.config().vocab() != cand.config().vocab())
            throw new IllegalArgumentException("vocabularies differ: " + base.config().vocab() + " vs " + cand.config().vocab());
        int chunks = Perplexity.chunks(ids.length, ctx, maxChunks);
        if (chunks == 0) throw new IllegalArgumentException("the input has " + ids.length + " tokens, fewer than one chunk of --ctx " + ctx);
        int per = ctx - 1, n = chunks * per, vocab = base.config().vocab();
        Tokens t = new Tokens(new int[n], new int[n], new int[n], new double[n], new double[n], new double[n], new double[n],
                new double[n], new int[n], new int[n]);
        int batch = Math.max(1, Perplexity.BATCH_TOKENS / ctx);
        float[] lb = null, lc = null; // logits of a slice of rows, base and candidate: never [tokens × vocab]
        for (int ch = 0; ch < chunks; ch += batch) {
            int b = Math.min(batch, chunks - ch), first = ch, rows = b * ctx;
            float[] hb = base.hidden(ids, ch * ctx, ctx, b), hc = cand.hidden(ids, ch * ctx, ctx, b);
            int step = Perplexity.logitStep(rows, vocab, logitFloats, base, cand);
            if (lb == null || lb.length < step * vocab) {
                lb = new float[step * vocab];
                lc = new float[step * vocab];
            }
            for (int r0 = 0; r0 < rows; r0 += step) {
                int rn = Math.min(step, rows - r0), from = r0;
                base.logits(hb, r0, rn, lb);
                cand.logits(hc, r0, rn, lc);
                float[] sb = lb, sc = lc;
                Kernels.parallel(rn, k -> {
                    int row = from + k, c = row / ctx, i = row % ctx;
                    if (i == per) return; // the last position has no next token
                    int slot = (first + c) * per + i, target = ids[first * ctx + row + 1];
                    compare(sb, sc, k * vocab, vocab, target, t, slot);
                    t.chunk[slot] = first + c;
                    t.position[slot] = i + 1;
                    t.target[slot] = target;
                });
            }
            if (progress != null) progress.accept(ch + b);
        }
        return t;
    }

    private static void compare(float[] lb, float[] lc, int off, int vocab, int target, Tokens t, int slot) {
        double zb = Perplexity.logSumExp(lb, off, vocab), zc = Perplexity.logSumExp(lc, off, vocab);
        double kld = 0;
        int topB = 0, topC = 0;
        for (int v = 0; v < vocab; v++) {
            double lpb = lb[off + v] - zb, lpc = lc[off + v] - zc;
            kld += Math.exp(lpb) * (lpb - lpc);
            if (lb[off + v] > lb[off + topB]) topB = v;
            if (lc[off + v] > lc[off + topC]) topC = v;
        }
        t.nllBase[slot] = zb - lb[off + target];
        t.nllCand[slot] = zc - lc[off + target];
        t.kld[slot] = Math.max(0, kld);
        t.pBase[slot] = Math.exp(-t.nllBase[slot]);
        t.pCand[slot] = Math.exp(-t.nllCand[slot]);
        t.top1Base[slot] = topB;
        t.top1Cand[slot] = topC;
    }

    /** The value at quantile q (0..1) of sorted data, linearly interpolated. */
    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    static double[] sorted(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s;
    }
}
