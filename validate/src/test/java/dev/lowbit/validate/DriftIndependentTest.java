package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every number of the drift report and of perplexity, recomputed here from the two models' logits with plain
 * double-precision loops written from the definitions (llama.cpp's --kl-divergence: KL(base‖candidate) =
 * Σ p_base·(ln p_base − ln p_cand), Δp = p_cand(target) − p_base(target), ln(ppl_cand/ppl_base) = mean(nll_cand −
 * nll_base); standard error of a mean = s/√N with the unbiased s; ppl ± ppl·SE(nll) by the delta method;
 * percentiles by linear interpolation between order statistics), then the gates' failing branches.
 */
class DriftIndependentTest {
    static final int CTX = 64, CHUNKS = 5;
    static final double NLL_TOL = 1e-6, KLD_TOL = 1e-7;

    @TempDir
    static Path tmp;

    static int[] ids() {
        return TokenIds.read(Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32"));
    }

    /** Two candidates: the same weights with positions squeezed 4× (a large drift), and NF4 weights (a small one). */
    static Stream<String> candidates() {
        return Stream.of("rope-linear-4", "nf4");
    }

    static Transformer candidate(String name) throws Exception {
        if (name.equals("rope-linear-4"))
            return Transformer.open(Samples.tinyLlama(), Map.of("rope_parameters", Map.of("rope_type", "linear", "factor", 4.0, "rope_theta", 10000.0)));
        Path q = tmp.resolve("nf4");
        if (!q.toFile().exists())
            Quantizer.run(Samples.tinyLlama(), q, new Recipe(Scheme.NF4, Layout.LOWBIT, 64, false, List.of(), List.of(), false, null), false, false, null);
        return Transformer.open(q);
    }

    /** Per-token quantities computed here, in double, from logits. */
    record Expected(double[] nllB, double[] nllC, double[] kld, double[] kldReverse, double[] pB, double[] pC, int[] topB, int[] topC) {}

    static double[] logSoftmax(float[] logits, int off, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]);
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += Math.exp(logits[off + v] - max);
        double z = max + Math.log(sum);
        double[] lp = new double[vocab];
        for (int v = 0; v < vocab; v++) lp[v] = logits[off + v] - z;
        return lp;
    }

    static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        for (int v = 1; v < vocab; v++) if (logits[off + v] > logits[off + best]) best = v;
        return best;
    }

    static Expected expected(Transformer base, Transformer cand, int[] ids) {
        int vocab = base.config().vocab(), per = CTX - 1, n = CHUNKS * per;
        // Drift batches all 5 chunks of 64 into one forward call: the same call here gives bit-identical logits.
        float[] lb = base.forward(ids, 0, CTX, CHUNKS), lc = cand.forward(ids, 0, CTX, CHUNKS);
        Expected e = new Expected(new double[n], new double[n], new double[n], new double[n], new double[n], new double[n], new int[n], new int[n]);
        for (int c = 0; c < CHUNKS; c++)
            for (int i = 0; i < per; i++) {
                int row = c * CTX + i, k = c * per + i, off = row * vocab, target = ids[row + 1];
                double[] pb = logSoftmax(lb, off, vocab), pc = logSoftmax(lc, off, vocab);
                double kl = 0, rev = 0;
                for (int v = 0; v < vocab; v++) {
                    kl += Math.exp(pb[v]) * (pb[v] - pc[v]);
                    rev += Math.exp(pc[v]) * (pc[v] - pb[v]);
                }
                e.nllB[k] = -pb[target];
                e.nllC[k] = -pc[target];
                e.kld[k] = kl;
                e.kldReverse[k] = rev;
                e.pB[k] = Math.exp(pb[target]);
                e.pC[k] = Math.exp(pc[target]);
                e.topB[k] = argmax(lb, off, vocab);
                e.topC[k] = argmax(lc, off, vocab);
            }
        return e;
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /** Standard error of the mean: sqrt(Σ(x − m)² / (N − 1)) / sqrt(N). */
    static double stderr(double[] x) {
        double m = mean(x), ss = 0;
        for (double v : x) ss += (v - m) * (v - m);
        return Math.sqrt(ss / (x.length - 1)) / Math.sqrt(x.length);
    }

    static double percentile(double[] x, double q) {
        double[] s = x.clone();
        Arrays.sort(s);
        double h = (s.length - 1) * q;
        int lo = (int) Math.floor(h);
        return lo + 1 < s.length ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
    }

    static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return d;
    }

    static void close(double want, double got, double rel, String what) {
        assertEquals(want, got, 1e-12 + rel * Math.abs(want), what);
    }

    @ParameterizedTest
    @MethodSource("candidates")
    void driftReportEqualsTheDefinitionsComputedHere(String name) throws Exception {
        int[] ids = ids();
        try (Transformer base = Transformer.open(Samples.tinyLlama()); Transformer cand = candidate(name)) {
            Expected e = expected(base, cand, ids);
            Drift.Tokens t = Drift.run(base, cand, ids, CTX, CHUNKS, null);
            DriftReport r = DriftReport.of(t, CTX);
            int n = e.kld.length;
            assertEquals(n, t.size());
            int directional = 0;
            for (int i = 0; i < n; i++) {
                // Drift subtracts the max in float (x − max rounded to float), so ln Z carries ~1e-8 absolute error
                // against the double loop here; nll, p and KL (= Σ p_b(l_b − l_c) − ln Z_b + ln Z_c) inherit it.
                assertEquals(e.nllB[i], t.nllBase()[i], NLL_TOL, "nll base " + i);
                assertEquals(e.nllC[i], t.nllCand()[i], NLL_TOL, "nll cand " + i);
                double tol = KLD_TOL + 1e-5 * e.kld[i];
                assertEquals(e.kld[i], t.kld()[i], tol, "KL(base‖cand) at token " + i);
                if (Math.abs(e.kld[i] - e.kldReverse[i]) > 3 * tol) directional++;
                assertEquals(e.pB[i], t.pBase()[i], NLL_TOL * e.pB[i], "p base " + i);
                assertEquals(e.pC[i], t.pCand()[i], NLL_TOL * e.pC[i], "p cand " + i);
                assertEquals(e.topB[i], t.top1Base()[i], "top-1 base " + i);
                assertEquals(e.topC[i], t.top1Cand()[i], "top-1 cand " + i);
                assertEquals(ids[(i / (CTX - 1)) * CTX + i % (CTX - 1) + 1], t.target()[i]);
            }
            if (name.equals("rope-linear-4")) assertTrue(directional > n / 2, "the reverse KL differs from the forward one on most tokens here (" + directional + "/" + n + "), so direction is tested");

            double mb = mean(e.nllB), mc = mean(e.nllC), pplB = Math.exp(mb), pplC = Math.exp(mc);
            close(pplB, r.base().ppl(), NLL_TOL, "ppl base");
            close(pplC, r.candidate().ppl(), NLL_TOL, "ppl cand");
            close(pplB * stderr(e.nllB), r.base().pplError(), 1e-5, "ppl base ± (delta method)");
            close(pplC * stderr(e.nllC), r.candidate().pplError(), 1e-5, "ppl cand ±");
            assertEquals(pplC - pplB, r.deltaPpl(), 2 * NLL_TOL * pplB, "Δppl");
            assertEquals(100 * (pplC - pplB) / pplB, r.deltaPplPercent(), 200 * NLL_TOL, "Δppl %");
            double[] lnRatio = minus(e.nllC, e.nllB);
            assertEquals(Math.log(pplC / pplB), r.lnPplRatio().mean(), 2 * NLL_TOL, "ln(ppl_cand/ppl_base)");
            close(stderr(lnRatio), r.lnPplRatio().error(), 1e-4, "ln ratio ±");
            assertEquals(mean(e.kld), r.kld().mean(), KLD_TOL + 1e-5 * mean(e.kld), "mean KLD");
            assertEquals(stderr(e.kld), r.kld().error(), KLD_TOL + 1e-4 * stderr(e.kld), "KLD ±");
            double[] dp = minus(e.pC, e.pB);
            assertEquals(mean(dp), r.deltaP().mean(), NLL_TOL * mean(e.pB), "mean Δp (cand − base)");
            close(stderr(dp), r.deltaP().error(), 1e-4, "Δp ±");
            double rms = 0;
            for (double v : dp) rms += v * v;
            close(Math.sqrt(rms / n), r.deltaPRms(), 1e-4, "Δp rms");
            String[] names = {"max", "99.9", "99", "95", "90", "median", "10", "5", "1", "min"};
            double[] qs = {1, 0.999, 0.99, 0.95, 0.90, 0.5, 0.10, 0.05, 0.01, 0};
            for (int i = 0; i < qs.length; i++) {
                assertEquals(percentile(e.kld, qs[i]), r.kldPercentiles().get(names[i]), KLD_TOL + 1e-5 * percentile(e.kld, qs[i]), "KLD " + names[i]);
                assertEquals(percentile(dp, qs[i]), r.deltaPPercentiles().get(names[i]), NLL_TOL, "Δp " + names[i]);
            }
            int same = 0;
            for (int i = 0; i < n; i++) if (e.topB[i] == e.topC[i]) same++;
            assertEquals(100.0 * same / n, r.sameTop1Percent(), 1e-12, "same top-1 %");
            assertTrue(same < n, "the candidate changes some top-1 choices, so the rate is tested below 100%");
            assertEquals(CHUNKS, r.perChunk().size());
            for (int c = 0; c < CHUNKS; c++) {
                int from = c * (CTX - 1), to = from + CTX - 1;
                double[] b = Arrays.copyOfRange(e.nllB, from, to), k = Arrays.copyOfRange(e.kld, from, to);
                close(Math.exp(mean(b)), r.perChunk().get(c).pplBase(), NLL_TOL, "chunk " + c + " ppl");
                assertEquals(mean(k), r.perChunk().get(c).meanKld(), KLD_TOL + 1e-5 * mean(k), "chunk " + c + " KLD");
            }
            assertEquals(n, r.tokens());
            assertEquals(CHUNKS, r.chunks());
        }
    }

    /** Perplexity's value and standard error from its own loop against the definitions, on the base alone. */
    @Test
    void perplexityAndItsStandardErrorEqualTheDefinitions() {
        int[] ids = ids();
        try (Transformer base = Transformer.open(Samples.tinyLlama())) {
            Expected e = expected(base, base, ids);
            Perplexity.Result r = Perplexity.run(base, ids, CTX, CHUNKS, null);
            double ppl = Math.exp(mean(e.nllB));
            close(ppl, r.ppl(), NLL_TOL, "ppl");
            close(ppl * stderr(e.nllB), r.pplError(), 1e-5, "ppl ± = ppl·s/√N");
            assertEquals(CHUNKS * (CTX - 1), r.scored());
            for (int c = 0; c < CHUNKS; c++) {
                double s = 0;
                for (int i = 0; i < CTX - 1; i++) s += e.nllB[c * (CTX - 1) + i];
                assertEquals(s, r.chunkNll()[c], (CTX - 1) * NLL_TOL, "chunk " + c);
            }
        }
    }

    /** Each gate fails just beyond the value computed here and passes just inside it; the failure names the gate. */
    @Test
    void everyGateFailsBeyondTheIndependentValueAndPassesInside() throws Exception {
        int[] ids = ids();
        try (Transformer base = Transformer.open(Samples.tinyLlama()); Transformer cand = candidate("rope-linear-4")) {
            Expected e = expected(base, cand, ids);
            DriftReport r = DriftReport.of(Drift.run(base, cand, ids, CTX, CHUNKS, null), CTX);
            double pplB = Math.exp(mean(e.nllB)), pplC = Math.exp(mean(e.nllC));
            double drift = 100 * (pplC - pplB) / pplB, kld = mean(e.kld);
            int same = 0;
            for (int i = 0; i < e.topB.length; i++) if (e.topB[i] == e.topC[i]) same++;
            double top1 = 100.0 * same / e.topB.length;
            assertTrue(drift > 0 && kld > 0 && top1 < 100, drift + " " + kld + " " + top1);

            List<String> f = new Validation.Gates(drift * 0.999, null, null).failures(r);
            assertEquals(1, f.size(), f.toString());
            assertTrue(f.get(0).startsWith("--max-ppl-drift"), f.toString());
            assertEquals(List.of(), new Validation.Gates(drift * 1.001, null, null).failures(r));

            f = new Validation.Gates(null, kld * 0.999, null).failures(r);
            assertEquals(1, f.size(), f.toString());
            assertTrue(f.get(0).startsWith("--max-kld"), f.toString());
            assertEquals(List.of(), new Validation.Gates(null, kld * 1.001, null).failures(r));

            f = new Validation.Gates(null, null, top1 + 0.01).failures(r);
            assertEquals(1, f.size(), f.toString());
            assertTrue(f.get(0).startsWith("--min-top1"), f.toString());
            assertEquals(List.of(), new Validation.Gates(null, null, top1 - 0.01).failures(r));

            assertEquals(3, new Validation.Gates(drift * 0.999, kld * 0.999, top1 + 0.01).failures(r).size(), "all three fail together");
        }
    }
}
