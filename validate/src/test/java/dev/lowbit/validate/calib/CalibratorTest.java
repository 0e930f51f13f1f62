package dev.lowbit.validate.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Calibration of tiny-llama against transformers: the sums of x² per input column of every linear layer over 4 chunks
 * of 128 tokens of calib_text.txt (BOS first in each chunk), computed by forward pre-hooks on transformers' modules
 * (src/test/resources/calib/ref_imatrix.py wrote tiny-llama-imatrix-ref.json).
 */
class CalibratorTest {
    @Test
    void sumsMatchTransformersHooks() throws Exception {
        Path model = Samples.requireShared("tiny-llama");
        Path text = Samples.requireShared("calib_text.txt");
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/calib/tiny-llama-imatrix-ref.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        Tokenizer tok = Tokenizer.load(model);
        int[] ids = tok.encode(Files.readString(text), true);
        for (int i = 0; i < 8; i++) assertEquals(ref.get("first_ids").get(i).asInt(), ids[i], "token " + i);
        Imatrix m;
        try (Transformer t = Transformer.open(model)) {
            m = Calibrator.run(t, ids, ref.get("bos").asInt(), new Calibrator.Options(128, 4, true, false), text.toString(), null);
        }
        assertEquals(4, m.chunkCount());
        assertEquals(128, m.chunkSize());
        assertEquals(512, m.tokens());
        assertEquals(ref.get("in_sum2").size(), m.stats().size());
        ref.get("in_sum2").properties().forEach(e -> {
            Imatrix.Stats s = m.stats().get(e.getKey());
            double[] want = new double[e.getValue().size()];
            for (int i = 0; i < want.length; i++) want[i] = e.getValue().get(i).asDouble();
            double max = 0;
            for (double w : want) max = Math.max(max, Math.abs(w));
            assertEquals(want.length, s.cols(), e.getKey());
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], s.sum2()[i], 2e-3 * max + 1e-3 * Math.abs(want[i]), e.getKey() + " column " + i);
            assertEquals(512, s.count(), e.getKey());
        });
        // q/k/v and gate/up read the same input: one set of sums
        assertSame(m.stats().get("blk.2.attn_q.weight"), m.stats().get("blk.2.attn_v.weight"));
        assertSame(m.stats().get("blk.2.ffn_gate.weight"), m.stats().get("blk.2.ffn_up.weight"));
        assertTrue(m.stats().get("blk.2.attn_q.weight") != m.stats().get("blk.2.ffn_up.weight"));
        // importance by HF or GGUF name; output.weight not collected unless asked
        assertArrayEquals(m.importance("blk.1.ffn_down.weight"), m.importance("model.layers.1.mlp.down_proj.weight"));
        assertNull(m.importance("lm_head.weight"));
    }

    @Test
    void hessianIsSymmetricWithTheSquaresOnItsDiagonal() throws Exception {
        Path model = Samples.requireShared("tiny-llama");
        Path text = Samples.requireShared("calib_text.txt");
        Tokenizer tok = Tokenizer.load(model);
        int[] ids = tok.encode(Files.readString(text), true);
        Imatrix m;
        try (Transformer t = Transformer.open(model)) {
            m = Calibrator.run(t, ids, 1, new Calibrator.Options(64, 2, true, true), "calib", null);
        }
        for (String name : new String[] {"blk.0.attn_q.weight", "blk.3.ffn_down.weight", "output.weight"}) {
            Imatrix.Stats s = m.stats().get(name);
            int n = s.cols();
            double[] x = s.xtx();
            for (int i = 0; i < n; i++) {
                assertEquals(s.sum2()[i], x[i * n + i], 1e-4 * s.sum2()[i] + 1e-6, name + " diagonal " + i);
                for (int j = 0; j < i; j += 7) assertEquals(x[i * n + j], x[j * n + i], 1e-4 * Math.sqrt(x[i * n + i] * x[j * n + j]) + 1e-6, name);
            }
            double[] h = m.hessian(name);
            assertEquals(x[5] / 128, h[5], 1e-12 * Math.abs(x[5]) + 1e-15);
        }
        // Layer 0's q_proj reads RMSNorm(embedding)·input_layernorm.weight: XᵀX recomputed here from the checkpoint in
        // double over the same two chunks of 64 (first token of each replaced by BOS), every entry compared.
        double[] want;
        int cols;
        try (Checkpoint ck = Checkpoint.open(model)) {
            Tensor emb = ck.tensor("model.embed_tokens.weight"), norm = ck.tensor("model.layers.0.input_layernorm.weight");
            cols = (int) emb.shape()[1];
            double eps = new ObjectMapper().readTree(model.resolve("config.json").toFile()).get("rms_norm_eps").asDouble();
            float[] g = new float[cols], e = new float[cols];
            double[] v = new double[cols];
            norm.readFloats(0, g);
            want = new double[cols * cols];
            for (int c = 0; c < 2; c++) {
                for (int t = 0; t < 64; t++) {
                    int id = t == 0 ? 1 : ids[c * 64 + t];
                    emb.readFloats((long) id * cols, e);
                    double ss = 0;
                    for (float f : e) ss += (double) f * f;
                    double inv = 1 / Math.sqrt(ss / cols + eps);
                    for (int i = 0; i < cols; i++) v[i] = e[i] * inv * g[i];
                    for (int i = 0; i < cols; i++)
                        for (int j = 0; j < cols; j++) want[i * cols + j] += v[i] * v[j];
                }
            }
        }
        double[] got = m.stats().get("blk.0.attn_q.weight").xtx();
        assertEquals(want.length, got.length);
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++)
                assertEquals(want[i * cols + j], got[i * cols + j], 1e-4 * Math.sqrt(want[i * cols + i] * want[j * cols + j]) + 1e-6, "XᵀX[" + i + "][" + j + "]");
    }
}
