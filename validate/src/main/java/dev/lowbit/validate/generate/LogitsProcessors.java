package dev.lowbit.validate.generate;

import java.util.Arrays;

/**
 * transformers' logits processors on one row of scores, in float32 and in its order: repetition penalty (always),
 * then, when sampling, temperature, top-k, top-p and min-p. Filtered tokens become -∞.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {}

    /** All processors cfg switches on, for a sequence whose ids so far are history (prompt included). */
    public static void apply(GenerationConfig cfg, float[] scores, int off, int vocab, int[] history, int historyLength) {
        if (cfg.repetitionPenalty() != 1.0) repetitionPenalty(scores, off, history, historyLength, (float) cfg.repetitionPenalty());
        if (!cfg.doSample()) return;
        if (cfg.temperature() != 1.0) temperature(scores, off, vocab, (float) cfg.temperature());
        if (cfg.topK() != 0) topK(scores, off, vocab, cfg.topK());
        if (cfg.topP() < 1.0) topP(scores, off, vocab, cfg.topP());
        if (cfg.minP() > 0) minP(scores, off, vocab, cfg.minP());
    }

    /** RepetitionPenaltyLogitsProcessor: each id present once or more: score / p if positive, score · p otherwise. */
    public static void repetitionPenalty(float[] s, int off, int[] history, int n, float p) {
        boolean[] seen = new boolean[0];
        for (int i = 0; i < n; i++) {
            int id = history[i];
            if (id >= seen.length) seen = Arrays.copyOf(seen, Math.max(id + 1, 2 * seen.length));
            if (seen[id]) continue;
            seen[id] = true;
            float v = s[off + id];
            s[off + id] = v < 0 ? v * p : v / p;
        }
    }

    public static void temperature(float[] s, int off, int vocab, float t) {
        for (int i = 0; i < vocab; i++) s[off + i] /= t;
    }

    /** TopKLogitsWarper: removes scores below the k-th largest (ties with it stay). */
    public static void topK(float[] s, int off, int vocab, int k) {
        k = Math.min(Math.max(k, 1), vocab);
        float[] sorted = Arrays.copyOfRange(s, off, off + vocab);
        Arrays.sort(sorted);
        float kth = sorted[vocab - k];
        for (int i = 0; i < vocab; i++) if (s[off + i] < kth) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    /**
     * TopPLogitsWarper: scores sorted ascending, their softmax summed cumulatively; those whose running sum is at most
     * 1 - p are removed, the largest always stays.
     */
    public static void topP(float[] s, int off, int vocab, double p) {
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(s[off + a], s[off + b]));
        float[] probs = softmax(s, off, vocab);
        float cum = 0, limit = (float) (1 - p);
        for (int r = 0; r < vocab - 1; r++) {
            cum += probs[order[r]];
            if (cum <= limit) s[off + order[r]] = Float.NEGATIVE_INFINITY;
            else break;
        }
    }

    /** MinPLogitsWarper: removes tokens whose probability is below minP times the top probability. */
    public static void minP(float[] s, int off, int vocab, double minP) {
        float[] probs = softmax(s, off, vocab);
        float top = 0;
        for (float q : probs) top = Math.max(top, q);
        float min = (float) minP * top;
        for (int i = 0; i < vocab; i++) if (probs[i] < min) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    /** softmax of s[off, off+vocab) in float32 (max subtracted; -∞ gives 0). */
    public static float[] softmax(float[] s, int off, int vocab) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, s[off + i]);
        float[] p = new float[vocab];
        float sum = 0;
        for (int i = 0; i < vocab; i++) sum += p[i] = (float) Math.exp(s[off + i] - max);
        for (int i = 0; i < vocab; i++) p[i] /= sum;
        return p;
    }

    /** log_softmax of one row in float32. */
    public static void logSoftmax(float[] s, int off, int vocab) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, s[off + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(s[off + i] - max);
        float lse = max + (float) Math.log(sum);
        for (int i = 0; i < vocab; i++) s[off + i] -= lse;
    }

    /** The first index of the largest score (torch.argmax). */
    public static int argmax(float[] s, int off, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (s[off + i] > s[off + best]) best = i;
        return best;
    }
}
