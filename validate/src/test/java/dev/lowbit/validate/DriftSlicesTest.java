package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import org.junit.jupiter.api.Test;

/**
 * Drift applies both models' lm_head to slices of rows; with slices that cut through the batched sequences (37 rows
 * over 5 sequences of 64) every per-token quantity must still equal the one computed from the whole logits matrices
 * by the plain loops of {@link DriftIndependentTest}.
 */
class DriftSlicesTest {
    @Test
    void unevenSlicesGiveTheSameTokensAsTheWholeMatrices() throws Exception {
        int[] ids = DriftIndependentTest.ids();
        try (Transformer base = Transformer.open(Samples.tinyLlama()); Transformer cand = DriftIndependentTest.candidate("rope-linear-4")) {
            DriftIndependentTest.Expected e = DriftIndependentTest.expected(base, cand, ids);
            int ctx = DriftIndependentTest.CTX, chunks = DriftIndependentTest.CHUNKS;
            Drift.Tokens t = Drift.run(base, cand, ids, ctx, chunks, null, 37L * base.config().vocab());
            assertEquals(e.kld().length, t.size());
            for (int i = 0; i < t.size(); i++) {
                assertEquals(e.nllB()[i], t.nllBase()[i], DriftIndependentTest.NLL_TOL, "nll base " + i);
                assertEquals(e.nllC()[i], t.nllCand()[i], DriftIndependentTest.NLL_TOL, "nll cand " + i);
                assertEquals(e.kld()[i], t.kld()[i], DriftIndependentTest.KLD_TOL + 1e-5 * e.kld()[i], "KL " + i);
                assertEquals(e.topB()[i], t.top1Base()[i], "top-1 base " + i);
                assertEquals(e.topC()[i], t.top1Cand()[i], "top-1 cand " + i);
                assertEquals(ids[(i / (ctx - 1)) * ctx + i % (ctx - 1) + 1], t.target()[i], "target " + i);
                assertEquals(i / (ctx - 1), t.chunk()[i], "chunk " + i);
                assertEquals(i % (ctx - 1) + 1, t.position()[i], "position " + i);
            }
        }
    }
}
