package dev.lowbit.validate;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The numbers of `lowbit validate` (schema lowbit-drift/2): perplexity of each model ± standard error, their
 * difference and log ratio ±, KL divergence mean ± and percentiles, Δp of the target token, same top-1 rate, per chunk.
 */
public record DriftReport(String schema, int ctx, int chunks, long tokens, Side base, Side candidate, double deltaPpl,
                          double deltaPplPercent, Estimate lnPplRatio, Estimate kld, Map<String, Double> kldPercentiles,
                          Estimate deltaP, @JsonProperty("delta_p_rms") double deltaPRms,
                          @JsonProperty("delta_p_percentiles") Map<String, Double> deltaPPercentiles, double sameTop1Percent,
                          List<Chunk> perChunk, Histogram kldHistogram, @JsonProperty("delta_p_histogram") Histogram deltaPHistogram) {
    public static final String SCHEMA = "lowbit-drift/2";
    static final double[] QUANTILES = {1.0, 0.999, 0.99, 0.95, 0.90, 0.5, 0.10, 0.05, 0.01, 0.0};
    static final String[] QUANTILE_NAMES = {"max", "99.9", "99", "95", "90", "median", "10", "5", "1", "min"};

    public record Side(double ppl, double pplError, double meanNll) {}

    public record Estimate(double mean, double error) {}

    public record Chunk(int chunk, double pplBase, double pplCandidate, double meanKld, double sameTop1Percent) {}

    /** counts[i] values fell in [edges[i], edges[i+1]); the first and last bins also take what lies beyond. */
    public record Histogram(double[] edges, long[] counts) {
        static Histogram of(double[] x, double[] edges) {
            long[] c = new long[edges.length - 1];
            for (double v : x) {
                int i = Arrays.binarySearch(edges, v);
                int bin = i >= 0 ? i : -i - 2;
                c[Math.max(0, Math.min(c.length - 1, bin))]++;
            }
            return new Histogram(edges, c);
        }

        /** KL divergence per token, 40 log-spaced bins from 1e-8 to 10 (zero counts in the first). */
        static Histogram kld(double[] x) {
            double[] e = new double[41];
            for (int i = 0; i <= 40; i++) e[i] = Math.pow(10, -8 + 9.0 * i / 40);
            return of(x, e);
        }

        /** Δp of the target token, 40 bins over ±max|Δp| (at least ±0.01). */
        static Histogram deltaP(double[] x) {
            double m = 0.01;
            for (double v : x) m = Math.max(m, Math.abs(v));
            double[] e = new double[41];
            for (int i = 0; i <= 40; i++) e[i] = -m + 2 * m * i / 40;
            return of(x, e);
        }
    }

    public static DriftReport of(Drift.Tokens t, int ctx) {
        int n = t.size();
        double[] diff = new double[n], dp = new double[n];
        int same = 0;
        for (int i = 0; i < n; i++) {
            diff[i] = t.nllCand()[i] - t.nllBase()[i];
            dp[i] = t.pCand()[i] - t.pBase()[i];
            if (t.top1Base()[i] == t.top1Cand()[i]) same++;
        }
        Side b = side(t.nllBase()), c = side(t.nllCand());
        Estimate ln = estimate(diff), kld = estimate(t.kld()), dP = estimate(dp);
        double rms = 0;
        for (double v : dp) rms += v * v;
        int chunks = n == 0 ? 0 : t.chunk()[n - 1] + 1;
        return new DriftReport(SCHEMA, ctx, chunks, n, b, c, c.ppl - b.ppl, 100 * (c.ppl - b.ppl) / b.ppl, ln, kld,
                percentiles(t.kld()), dP, Math.sqrt(rms / Math.max(1, n)), percentiles(dp), 100.0 * same / Math.max(1, n),
                perChunk(t, chunks), Histogram.kld(t.kld()), Histogram.deltaP(dp));
    }

    private static Side side(double[] nll) {
        Estimate e = estimate(nll);
        double ppl = Math.exp(e.mean);
        return new Side(ppl, ppl * e.error, e.mean);
    }

    /** Mean and its standard error. */
    static Estimate estimate(double[] x) {
        int n = x.length;
        double s = 0, sq = 0;
        for (double v : x) {
            s += v;
            sq += v * v;
        }
        double mean = s / Math.max(1, n), var = Math.max(0, sq / Math.max(1, n) - mean * mean);
        return new Estimate(mean, Math.sqrt(var / Math.max(1, n - 1)));
    }

    private static Map<String, Double> percentiles(double[] x) {
        double[] s = Drift.sorted(x);
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < QUANTILES.length; i++) m.put(QUANTILE_NAMES[i], Drift.quantile(s, QUANTILES[i]));
        return m;
    }

    private static List<Chunk> perChunk(Drift.Tokens t, int chunks) {
        double[] nb = new double[chunks], nc = new double[chunks], k = new double[chunks];
        int[] count = new int[chunks], same = new int[chunks];
        for (int i = 0; i < t.size(); i++) {
            int c = t.chunk()[i];
            nb[c] += t.nllBase()[i];
            nc[c] += t.nllCand()[i];
            k[c] += t.kld()[i];
            count[c]++;
            if (t.top1Base()[i] == t.top1Cand()[i]) same[c]++;
        }
        List<Chunk> out = new ArrayList<>();
        for (int c = 0; c < chunks; c++)
            out.add(new Chunk(c, Math.exp(nb[c] / count[c]), Math.exp(nc[c] / count[c]), k[c] / count[c], 100.0 * same[c] / count[c]));
        return out;
    }
}
