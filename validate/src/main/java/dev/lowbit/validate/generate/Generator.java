package dev.lowbit.validate.generate;

import dev.lowbit.validate.model.KvCache;
import dev.lowbit.validate.model.Transformer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Continues a prompt with a model: greedy or sampled decoding one token at a time, or beam search, as transformers'
 * generate() does. With the cache the prompt is prefilled in one batched pass and each new token costs one
 * single-row forward over the KV cache; without it every step recomputes the whole sequence (for checking the cache).
 */
public final class Generator {
    private final Transformer model;
    private final GenerationConfig cfg;
    private final boolean useCache;
    private final int vocab;

    public Generator(Transformer model, GenerationConfig cfg, boolean useCache) {
        if (cfg.numBeams() > 1 && cfg.doSample()) throw new IllegalArgumentException("beam search with sampling is not supported: use num beams 1 to sample");
        this.model = model;
        this.cfg = cfg;
        this.useCache = useCache;
        this.vocab = model.config().vocab();
    }

    /**
     * The generated ids (prompt excluded) and timings: prefill is the prompt's forward pass (it yields the first new
     * token), decode the forward passes after it; cacheBytes is what the KV caches hold (0 without cache).
     */
    public record Result(int[] prompt, int[] generated, boolean stoppedAtEos, long prefillNanos, long decodeNanos, int decodeSteps, long cacheBytes) {
        public double promptTokensPerSecond() {
            return prompt.length / (prefillNanos / 1e9);
        }

        /** Decoded tokens per second (each decode step advances every beam by one token; counted once). */
        public double decodeTokensPerSecond() {
            return decodeSteps == 0 ? Double.NaN : decodeSteps / (decodeNanos / 1e9);
        }
    }

    /** Generates from prompt; onToken sees each new id as it is chosen (for beam search: the best beam's, at the end). */
    public Result generate(int[] prompt, IntConsumer onToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty (no tokens)");
        int total = prompt.length + cfg.maxNewTokens();
        if (total > model.positionLimit())
            throw new IllegalArgumentException("prompt (" + prompt.length + " tokens) + " + cfg.maxNewTokens() + " new tokens exceed the model's " + model.positionLimit() + " learned positions");
        return cfg.numBeams() > 1 ? beam(prompt, total, onToken) : single(prompt, total, onToken);
    }

    private Result single(int[] prompt, int total, IntConsumer onToken) {
        int[] seq = Arrays.copyOf(prompt, total);
        int len = prompt.length;
        KvCache cache = useCache ? model.newCache(total - 1) : null;
        SplittableRandom rnd = new SplittableRandom(cfg.seed());
        long t0 = System.nanoTime();
        float[] logits = useCache ? model.forward(prompt, prompt.length, cache) : lastRows(seq, len, 1);
        long prefill = System.nanoTime() - t0, t1 = System.nanoTime();
        int steps = 0;
        boolean eos;
        while (true) {
            int next = pick(cfg, logits, 0, vocab, seq, len, rnd);
            seq[len++] = next;
            onToken.accept(next);
            eos = cfg.isEos(next);
            if (eos || len == total) break;
            logits = useCache ? model.forward(new int[] {next}, 1, cache) : lastRows(seq, len, 1);
            steps++;
        }
        return new Result(prompt.clone(), Arrays.copyOfRange(seq, prompt.length, len), eos, prefill, System.nanoTime() - t1, steps,
                useCache ? KvCache.bytes(model.config(), cache.capacity()) : 0);
    }

    /** The processors of cfg on logits[off, off+vocab), then the greedy choice or a draw from their softmax. */
    public static int pick(GenerationConfig cfg, float[] logits, int off, int vocab, int[] history, int n, SplittableRandom rnd) {
        LogitsProcessors.apply(cfg, logits, off, vocab, history, n);
        return cfg.doSample() ? sample(logits, off, vocab, rnd) : LogitsProcessors.argmax(logits, off, vocab);
    }

    /** One draw from softmax(scores): the first id whose cumulative probability exceeds a uniform u in [0, 1). */
    public static int sample(float[] scores, int off, int vocab, SplittableRandom rnd) {
        float[] p = LogitsProcessors.softmax(scores, off, vocab);
        double total = 0;
        for (float q : p) total += q;
        double u = rnd.nextDouble() * total, cum = 0;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (p[i] == 0) continue;
            cum += p[i];
            last = i;
            if (u < cum) return i;
        }
        return last;
    }

    /** Logits of the last row of each of `count` sequences of len tokens, stored one per maxLen stride in seqs. */
    private float[] lastRows(int[] seqs, int len, int count) {
        int stride = seqs.length / count;
        int[] packed = new int[len * count];
        for (int b = 0; b < count; b++) System.arraycopy(seqs, b * stride, packed, b * len, len);
        float[] all = model.forward(packed, 0, len, count), out = new float[count * vocab];
        for (int b = 0; b < count; b++) System.arraycopy(all, ((b + 1) * len - 1) * vocab, out, b * vocab, vocab);
        return out;
    }

    /**
     * transformers' _beam_search (batch of one): per step, log_softmax then the processors, plus each beam's score; the
     * top max(2, 1 + eos ids)·numBeams continuations; those ending in EOS or at the length limit (and among the first
     * numBeams) are finished hypotheses scored sum_logprobs / generated_length^length_penalty; the best numBeams
     * unfinished continue; the early-stop heuristic as _check_early_stop_heuristic.
     */
    private Result beam(int[] prompt, int total, IntConsumer onToken) {
        int nb = cfg.numBeams(), L0 = prompt.length, keep = Math.max(2, 1 + cfg.eosIds().length) * nb;
        float lp = (float) cfg.lengthPenalty();
        String early = cfg.earlyStopping();
        int[][] run = new int[nb][total];
        for (int[] r : run) System.arraycopy(prompt, 0, r, 0, L0);
        float[] runScore = new float[nb];
        Arrays.fill(runScore, 1, nb, -1e9f);
        int[][] fin = new int[nb][];
        float[] finScore = new float[nb];
        Arrays.fill(finScore, -1e9f);
        boolean[] finDone = new boolean[nb];
        boolean heuristic = true;
        KvCache[] caches = new KvCache[nb], spare = new KvCache[nb];
        long t0 = System.nanoTime();
        float[] logits;
        if (useCache) {
            for (int b = 0; b < nb; b++) {
                caches[b] = model.newCache(total - 1);
                spare[b] = model.newCache(total - 1);
            }
            float[] first = model.forward(prompt, L0, caches[0]);
            logits = new float[nb * vocab];
            for (int b = 0; b < nb; b++) {
                caches[b].copyFrom(caches[0]);
                System.arraycopy(first, 0, logits, b * vocab, vocab);
            }
        } else logits = lastRows(flatten(run), L0, nb);
        long prefill = System.nanoTime() - t0, t1 = System.nanoTime();
        int steps = 0, cur = L0;
        boolean stoppedAtEos = false;
        while (true) {
            float[] acc = new float[nb * vocab];
            for (int b = 0; b < nb; b++) {
                LogitsProcessors.logSoftmax(logits, b * vocab, vocab);
                LogitsProcessors.apply(cfg, logits, b * vocab, vocab, run[b], cur);
                for (int i = 0; i < vocab; i++) acc[b * vocab + i] = logits[b * vocab + i] + runScore[b];
            }
            int[] top = topK(acc, keep);
            int[][] cand = new int[keep][];
            float[] candScore = new float[keep], candRun = new float[keep];
            int[] candSrc = new int[keep];
            boolean[] hits = new boolean[keep];
            boolean allHit = true;
            for (int j = 0; j < keep; j++) {
                int src = top[j] / vocab, tok = top[j] % vocab;
                cand[j] = run[src].clone();
                cand[j][cur] = tok;
                candScore[j] = acc[top[j]];
                candSrc[j] = src;
                hits[j] = cfg.isEos(tok) || cur + 1 >= total;
                allHit &= hits[j];
                candRun[j] = candScore[j] + (hits[j] ? -1e9f : 0f);
            }
            int[] next = topK(candRun, nb);
            int[][] newRun = new int[nb][];
            int[] src = new int[nb];
            for (int i = 0; i < nb; i++) {
                newRun[i] = cand[next[i]];
                runScore[i] = candRun[next[i]];
                src[i] = candSrc[next[i]];
            }
            boolean allFinished = true;
            for (boolean f : finDone) allFinished &= f;
            float norm = (float) Math.pow(cur + 1 - L0, lp);
            float[] merged = new float[nb + keep];
            System.arraycopy(finScore, 0, merged, 0, nb);
            for (int j = 0; j < keep; j++) {
                boolean justFinished = hits[j] && j < nb;
                float s = candScore[j] / norm;
                if (allFinished && early.equals("true")) s += -1e9f;
                if (!heuristic) s += -1e9f;
                if (!justFinished) s += -1e9f;
                merged[nb + j] = s;
            }
            int[] best = topK(merged, nb);
            int[][] newFin = new int[nb][];
            float[] newFinScore = new float[nb];
            boolean[] newFinDone = new boolean[nb];
            for (int i = 0; i < nb; i++) {
                int m = best[i];
                if (m < nb) {
                    newFin[i] = fin[m];
                    newFinDone[i] = finDone[m];
                } else {
                    int j = m - nb;
                    newFin[i] = Arrays.copyOf(cand[j], cur + 1);
                    newFinDone[i] = hits[j] && j < nb;
                }
                newFinScore[i] = merged[m];
            }
            fin = newFin;
            finScore = newFinScore;
            finDone = newFinDone;
            run = newRun;
            cur++;
            float bestLen = early.equals("never") && lp > 0 ? total - L0 : cur - L0;
            float bestRunning = runScore[0] / (float) Math.pow(bestLen, lp);
            float minFin = Float.POSITIVE_INFINITY;
            for (float s : finScore) minFin = Math.min(minFin, s);
            boolean improvable = false;
            for (int i = 0; i < nb; i++) improvable |= bestRunning > (finDone[i] ? minFin : -1e9f);
            heuristic &= improvable;
            boolean allFin = true;
            for (boolean f : finDone) allFin &= f;
            if (!heuristic || (allFin && early.equals("true")) || allHit) break;
            if (useCache) {
                boolean identity = true;
                for (int i = 0; i < nb; i++) identity &= src[i] == i;
                if (!identity) {
                    for (int i = 0; i < nb; i++) spare[i].copyFrom(caches[src[i]]);
                    KvCache[] t = caches;
                    caches = spare;
                    spare = t;
                }
                int[] last = new int[nb];
                for (int i = 0; i < nb; i++) last[i] = run[i][cur - 1];
                logits = model.forward(last, 1, caches);
            } else logits = lastRows(flatten(run), cur, nb);
            steps++;
        }
        int[] out = fin[0] == null ? new int[0] : Arrays.copyOfRange(fin[0], L0, fin[0].length);
        for (int id : out) onToken.accept(id);
        stoppedAtEos = out.length > 0 && cfg.isEos(out[out.length - 1]);
        return new Result(prompt.clone(), out, stoppedAtEos, prefill, System.nanoTime() - t1, steps,
                useCache ? 2 * nb * KvCache.bytes(model.config(), total - 1) : 0);
    }

    private static int[] flatten(int[][] rows) {
        int[] flat = new int[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        return flat;
    }

    /** Indices of the k largest values, largest first (equal values: lower index first). */
    static int[] topK(float[] v, int k) {
        int[] idx = new int[k];
        float[] val = new float[k];
        int n = 0;
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            if (n == k && !(x > val[k - 1])) continue;
            int p = n < k ? n++ : k - 1;
            while (p > 0 && x > val[p - 1]) {
                val[p] = val[p - 1];
                idx[p] = idx[p - 1];
                p--;
            }
            val[p] = x;
            idx[p] = i;
        }
        return idx;
    }
}
