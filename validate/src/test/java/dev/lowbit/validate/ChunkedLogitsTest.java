package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import org.junit.jupiter.api.Test;

/**
 * Perplexity applies lm_head to slices of rows of the hidden states, so a long context never holds [tokens × vocab]
 * logits. Its token nlls must equal those computed here, in double, from the whole logits matrix of one forward call,
 * whatever the slice size (uneven slices, a slice per row, slices across sequence boundaries).
 */
class ChunkedLogitsTest {
    static double[][] fromFullLogits(Transformer t, int[] ids, int n, int batch) {
        float[] logits = t.forward(ids, 0, n, batch);
        int vocab = t.config().vocab();
        double[][] nll = new double[batch][n - 1];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < n - 1; i++) {
                int off = (b * n + i) * vocab;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]);
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[off + v] - max);
                nll[b][i] = max + Math.log(sum) - logits[off + ids[b * n + i + 1]];
            }
        return nll;
    }

    static void assertSame(double[][] want, double[][] got, String what) {
        double sumW = 0, sumG = 0;
        for (int b = 0; b < want.length; b++)
            for (int i = 0; i < want[b].length; i++) {
                assertEquals(want[b][i], got[b][i], 1e-6, what + ": sequence " + b + ", token " + i);
                sumW += want[b][i];
                sumG += got[b][i];
            }
        int count = want.length * want[0].length;
        double pplW = Math.exp(sumW / count), pplG = Math.exp(sumG / count);
        assertEquals(pplW, pplG, 1e-5 * pplW, what + ": perplexity");
    }

    @Test
    void slicedLogitsEqualTheWholeMatrixAtCtx1024() {
        int[] ids = TokenIds.read(Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32"));
        try (Transformer t = Transformer.open(Samples.tinyLlama())) {
            int vocab = t.config().vocab();
            double[][] want = fromFullLogits(t, ids, 1024, 1);
            assertSame(want, Perplexity.tokenNll(t, ids, 0, 1024, 1, 300L * vocab), "slices of 300 rows");
            assertSame(want, Perplexity.tokenNll(t, ids, 0, 1024, 1), "default slices");
        }
    }

    @Test
    void slicesMayCrossSequencesOfABatch() {
        int[] ids = TokenIds.read(Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32"));
        try (Transformer t = Transformer.open(Samples.tinyLlama())) {
            int vocab = t.config().vocab();
            double[][] want = fromFullLogits(t, ids, 64, 5);
            assertSame(want, Perplexity.tokenNll(t, ids, 0, 64, 5, 50L * vocab), "slices of 50 rows over 5 sequences of 64");
            assertSame(want, Perplexity.tokenNll(t, ids, 0, 64, 5, 1), "a row at a time");
        }
    }
}
