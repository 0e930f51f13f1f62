package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.TokenIds;
import dev.lowbit.validate.model.Transformer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewriteCommandTest {
    @TempDir
    Path tmp;
    static final ObjectMapper JSON = new ObjectMapper();

    static int run(String... args) {
        return Main.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true));
    }

    static int[] ids() {
        return TokenIds.read(Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32"));
    }

    @Test
    void ropeLayoutRoundTripIsByteIdenticalAndPerplexityUnchanged() throws Exception {
        Path in = Samples.tinyLlama(), inter = tmp.resolve("inter"), back = tmp.resolve("back");
        assertEquals(0, run("rewrite", in.toString(), "-o", inter.toString(), "--rope-layout", "interleaved"));
        assertEquals(0, run("rewrite", inter.toString(), "-o", back.toString(), "--rope-layout", "half"));
        assertEquals(-1, Files.mismatch(in.resolve("model.safetensors"), back.resolve("model.safetensors")), "round trip byte for byte");
        assertNotEquals(-1, Files.mismatch(in.resolve("model.safetensors"), inter.resolve("model.safetensors")));
        assertEquals(JSON.readTree(in.resolve("config.json").toFile()), JSON.readTree(back.resolve("config.json").toFile()));
        assertEquals("interleaved", JSON.readTree(inter.resolve("config.json").toFile()).get("lowbit_rope_layout").asText());
        try (Transformer a = Transformer.open(in); Transformer b = Transformer.open(inter)) {
            Perplexity.Result ra = Perplexity.run(a, ids(), 256, 4, null), rb = Perplexity.run(b, ids(), 256, 4, null);
            for (int i = 0; i < ra.chunkNll().length; i++)
                assertEquals(ra.chunkNll()[i], rb.chunkNll()[i], 1e-6 * ra.chunkNll()[i], "same math on permuted rows; only the dot-product order differs");
        }
    }

    /** The interleaved q rows follow llama.cpp's permutation, checked on one head by index arithmetic. */
    @Test
    void interleavedRowsFollowTheGgufPermutation() {
        Path inter = tmp.resolve("i");
        assertEquals(0, run("rewrite", Samples.tinyLlama().toString(), "-o", inter.toString(), "--rope-layout", "interleaved"));
        try (var a = dev.lowbit.formats.Checkpoint.open(Samples.tinyLlama()); var b = dev.lowbit.formats.Checkpoint.open(inter)) {
            var q = a.tensor("model.layers.0.self_attn.k_proj.weight");
            var p = b.tensor("model.layers.0.self_attn.k_proj.weight");
            int hd = 32, cols = 256;
            for (int head = 0; head < 2; head++)
                for (int j = 0; j < hd / 2; j++)
                    for (int c = 0; c < 2; c++)
                        for (int col = 0; col < cols; col += 37)
                            assertEquals(q.getDouble(((long) head * hd + c * hd / 2 + j) * cols + col), p.getDouble(((long) head * hd + 2 * j + c) * cols + col));
        }
    }

    @Test
    void yarnWrittenByRewriteReproducesTheReference() throws Exception {
        Path out = tmp.resolve("yarn");
        assertEquals(0, run("rewrite", Samples.tinyLlama().toString(), "-o", out.toString(), "--rope-scaling", "yarn", "--factor", "4", "--original-max-position", "256"));
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("yarn", cfg.get("rope_parameters").get("rope_type").asText());
        assertEquals(10000.0, cfg.get("rope_parameters").get("rope_theta").asDouble());
        assertEquals(256, cfg.get("rope_scaling").get("original_max_position_embeddings").asInt());
        assertEquals(10000.0, cfg.get("rope_theta").asDouble());
        JsonNode ref = null;
        for (JsonNode r : JSON.readTree(Samples.tinyLlama().resolve("reference/rope_refs.json").toFile()).get("rope_scaling"))
            if (r.get("rope_scaling").get("rope_type").asText().equals("yarn")) ref = r;
        try (Transformer t = Transformer.open(out)) {
            Perplexity.Result r = Perplexity.run(t, ids(), ref.get("ctx").asInt(), ref.get("chunks").asInt(), null);
            assertEquals(ref.get("ppl").asDouble(), r.ppl(), 1e-4 * r.ppl());
        }
    }

    @Test
    void alibiSlopeScaleIsRecordedAndHonoured() throws Exception {
        var bloom = java.util.Optional.of(Samples.requireShared("tiny-bloom"));
        Path out = tmp.resolve("alibi");
        assertEquals(0, run("rewrite", bloom.get().toString(), "-o", out.toString(), "--alibi-slope-scale", "0.125"));
        assertEquals(0.125, JSON.readTree(out.resolve("config.json").toFile()).get("lowbit_alibi_slope_scale").asDouble());
        int[] ids = TokenIds.read(bloom.get().resolve("reference/eval_token_ids.i32"));
        try (Transformer a = Transformer.open(bloom.get()); Transformer b = Transformer.open(out);
             Transformer c = Transformer.open(bloom.get(), java.util.Map.of(Transformer.ALIBI_SCALE_KEY, 0.125))) {
            double pa = Perplexity.run(a, ids, 1024, 1, null).ppl(), pb = Perplexity.run(b, ids, 1024, 1, null).ppl(), pc = Perplexity.run(c, ids, 1024, 1, null).ppl();
            assertNotEquals(pa, pb);
            assertEquals(pb, pc, 0.0, "the config key and the run-time option agree");
        }
    }

    @Test
    void mismatchedRewritesExit2AndWriteNothing() {
        var bloom = java.util.Optional.of(Samples.requireShared("tiny-bloom"));
        Path out = tmp.resolve("x");
        assertEquals(2, run("rewrite", bloom.get().toString(), "-o", out.toString(), "--rope-layout", "interleaved"));
        assertEquals(2, run("rewrite", Samples.tinyLlama().toString(), "-o", out.toString(), "--alibi-slope-scale", "0.5"));
        assertEquals(2, run("rewrite", Samples.tinyLlama().toString(), "-o", out.toString(), "--rope-scaling", "ntk", "--factor", "2"));
        assertFalse(Files.exists(out));
    }
}
