package dev.lowbit.validate.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Seeded sampling: many one-step draws through Generator.pick (processors, then the draw) against the distribution the
 * test computes itself in double precision from the raw logits with transformers' definitions (temperature divides;
 * top-k keeps the k largest; top-p keeps a token when the probability of the tokens above it is below p; min-p keeps
 * a token whose probability is at least min_p times the largest) — a chi-square test at a fixed seed.
 */
class SamplingTest {
    static final int V = 64, DRAWS = 200_000;

    @ParameterizedTest(name = "T={0} top_k={1} top_p={2} min_p={3}")
    @CsvSource({"1.0,0,1.0,0", "0.7,0,1.0,0", "1.0,10,1.0,0", "1.0,0,0.8,0", "1.0,0,1.0,0.1", "1.3,20,0.9,0.02", "0.5,40,0.95,0.05"})
    void drawsFollowTheFilteredSoftmax(double temperature, int topK, double topP, double minP) {
        Random r = new Random(42);
        float[] logits = new float[V];
        for (int i = 0; i < V; i++) logits[i] = (float) (r.nextGaussian() * 2);
        double[] expected = expected(logits, temperature, topK, topP, minP);
        GenerationConfig cfg = new GenerationConfig(1, true, temperature, topK, topP, minP, 1, 1, 1, "false", new int[0], 0);
        SplittableRandom rnd = new SplittableRandom(1234);
        long[] counts = new long[V];
        for (int d = 0; d < DRAWS; d++) counts[Generator.pick(cfg, logits.clone(), 0, V, new int[0], 0, rnd)]++;
        double chi2 = 0;
        int kept = 0;
        for (int i = 0; i < V; i++) {
            if (expected[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " was filtered out but drawn");
                continue;
            }
            kept++;
            double e = expected[i] * DRAWS;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
        }
        assertTrue(kept > 1, "the filters leave more than one token");
        int df = kept - 1;
        // Wilson–Hilferty: the 99.9% quantile of chi-square with df degrees of freedom (z = 3.09)
        double crit = df * Math.pow(1 - 2.0 / (9 * df) + 3.09 * Math.sqrt(2.0 / (9 * df)), 3);
        assertTrue(chi2 < crit, "chi2 " + chi2 + " ≥ " + crit + " at df " + df);
    }

    /** The filtered, renormalized distribution, straight from the definitions. */
    static double[] expected(float[] logits, double temperature, int topK, double topP, double minP) {
        double[] z = new double[V];
        for (int i = 0; i < V; i++) z[i] = logits[i] / temperature;
        boolean[] keep = new boolean[V];
        Arrays.fill(keep, true);
        Integer[] desc = new Integer[V];
        for (int i = 0; i < V; i++) desc[i] = i;
        Arrays.sort(desc, (a, b) -> Double.compare(z[b], z[a]));
        if (topK > 0) for (int r = topK; r < V; r++) keep[desc[r]] = false;
        double[] p = softmax(z, keep);
        if (topP < 1) {
            double above = 0;
            for (int r = 0; r < V; r++) {
                int i = desc[r];
                if (above >= topP && r > 0) keep[i] = false;
                above += p[i];
            }
            p = softmax(z, keep);
        }
        if (minP > 0) {
            double max = Arrays.stream(p).max().orElseThrow();
            for (int i = 0; i < V; i++) if (p[i] < minP * max) keep[i] = false;
            p = softmax(z, keep);
        }
        return p;
    }

    private static double[] softmax(double[] z, boolean[] keep) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < z.length; i++) if (keep[i]) max = Math.max(max, z[i]);
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) if (keep[i]) sum += p[i] = Math.exp(z[i] - max);
        for (int i = 0; i < z.length; i++) p[i] /= sum;
        return p;
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOncePerToken() {
        float[] s = {2f, -2f, 1f, 0.5f};
        LogitsProcessors.repetitionPenalty(s, 0, new int[] {0, 1, 1, 0}, 4, 2f);
        assertArrayEquals(new float[] {1f, -4f, 1f, 0.5f}, s);
    }

    @Test
    void sameSeedSameTextOtherSeedOtherText() {
        try (Transformer t = Transformer.open(Samples.tinyLlama())) {
            int[] prompt = {1, 330, 902, 327};
            GenerationConfig a = new GenerationConfig(32, true, 1.0, 0, 1.0, 0, 1, 1, 1, "false", new int[0], 7);
            GenerationConfig b = new GenerationConfig(32, true, 1.0, 0, 1.0, 0, 1, 1, 1, "false", new int[0], 8);
            int[] first = new Generator(t, a, true).generate(prompt, id -> {}).generated();
            assertArrayEquals(first, new Generator(t, a, true).generate(prompt, id -> {}).generated());
            assertArrayEquals(first, new Generator(t, a, false).generate(prompt, id -> {}).generated(), "sampling without the cache draws the same");
            assertFalse(Arrays.equals(first, new Generator(t, b, true).generate(prompt, id -> {}).generated()));
        }
    }
}
