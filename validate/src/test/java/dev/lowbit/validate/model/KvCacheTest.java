package dev.lowbit.validate.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import dev.lowbit.validate.TokenIds;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cached forward (prefill, then one token at a time, several caches of different lengths in one call) gives the
 * logits of the plain forward over the whole prefix, last row: for every architecture, RoPE scaling and layout, ALiBi
 * scale and a few quantized GGUFs. The plain forward is checked against transformers elsewhere (ReferenceTest,
 * PositionReferenceTest, GgufModelTest); here it is the independent twin of the cache.
 */
class KvCacheTest {
    static Stream<Arguments> models() {
        Map<String, Object> none = Map.of();
        return Stream.of(
                Arguments.of("embedded", "", none),
                Arguments.of("tiny-gpt2", "", none),
                Arguments.of("tiny-bloom", "", none),
                Arguments.of("tiny-bloom", "", Map.of(Transformer.ALIBI_SCALE_KEY, 0.5)),
                Arguments.of("tiny-llama", "", none),
                Arguments.of("tiny-llama", "", Map.of(Transformer.ROPE_LAYOUT_KEY, "interleaved")),
                Arguments.of("tiny-llama", "", Map.of("model_type", "mistral", "architectures", List.of("MistralForCausalLM"), "sliding_window", 7)),
                Arguments.of("tiny-llama", "", rope(Map.of("rope_type", "linear", "factor", 4.0))),
                Arguments.of("tiny-llama", "", rope(Map.of("rope_type", "dynamic", "factor", 2.0))),
                Arguments.of("tiny-llama", "", rope(Map.of("rope_type", "yarn", "factor", 4.0, "original_max_position_embeddings", 256))),
                Arguments.of("tiny-llama", "", rope(Map.of("rope_type", "llama3", "factor", 8.0, "original_max_position_embeddings", 32,
                        "low_freq_factor", 1.0, "high_freq_factor", 4.0))),
                Arguments.of("tiny-llama", "reference/gguf/tiny-llama-Q8_0.gguf", none),
                Arguments.of("tiny-llama", "reference/gguf/tiny-llama-Q4_K_M.gguf", none),
                Arguments.of("tiny-gpt2", "reference/gguf/tiny-gpt2-Q4_0.gguf", none),
                Arguments.of("tiny-bloom", "reference/gguf/tiny-bloom-Q8_0.gguf", none));
    }

    private static Map<String, Object> rope(Map<String, Object> p) {
        var m = new java.util.HashMap<>(p);
        m.put("rope_theta", 10000.0);
        return Map.of("rope_parameters", m);
    }

    private static Path dir(String model) {
        return model.equals("embedded") ? Samples.tinyLlama() : Samples.requireShared(model);
    }

    private static int[] ids(String model) {
        Path d = dir(model);
        Path f = d.resolve("reference/eval_token_ids.i32");
        return Arrays.copyOf(TokenIds.read(java.nio.file.Files.exists(f) ? f : d.resolve("reference/eval_token_ids_first16384.i32")), 48);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("models")
    void cachedStepsMatchFullForward(String model, String file, Map<String, Object> overrides) {
        int[] ids = ids(model);
        Path path = file.isEmpty() ? dir(model) : dir(model).resolve(file);
        try (Transformer t = Transformer.open(path, overrides)) {
            int V = t.config().vocab(), pre = 20;
            KvCache cache = t.newCache(ids.length);
            float[] got = t.forward(Arrays.copyOf(ids, pre), pre, cache);
            assertClose(lastRow(t, ids, pre), got, model + " prefill");
            for (int p = pre; p < ids.length; p++) {
                got = t.forward(new int[] {ids[p]}, 1, cache);
                assertClose(lastRow(t, ids, p + 1), got, model + " step at " + p);
            }
            assertEquals(ids.length, cache.length());
            KvCache a = t.newCache(ids.length), b = t.newCache(ids.length);
            t.forward(Arrays.copyOf(ids, 10), 10, a);
            t.forward(Arrays.copyOf(ids, 30), 30, b);
            float[] both = t.forward(new int[] {ids[10], ids[30]}, 1, a, b);
            assertClose(lastRow(t, ids, 11), Arrays.copyOfRange(both, 0, V), model + " batched short");
            assertClose(lastRow(t, ids, 31), Arrays.copyOfRange(both, V, 2 * V), model + " batched long");
        }
    }

    @Test
    void learnedPositionsBoundTheCache() {
        try (Transformer t = Transformer.open(Samples.requireShared("tiny-gpt2"))) {
            int max = t.config().maxPositions();
            assertEquals(max, t.newCache(max).capacity());
            var e = assertThrows(IllegalArgumentException.class, () -> t.newCache(max + 1));
            assertTrue(e.getMessage().contains("learned positions"), e.getMessage());
            KvCache c = t.newCache(4);
            t.forward(new int[] {1, 2, 3}, 3, c);
            assertThrows(IllegalStateException.class, () -> t.forward(new int[] {4, 5}, 2, c));
            var cfg = t.config();
            assertEquals((long) cfg.layers() * 2 * cfg.kvHeads() * cfg.headDim() * 4 * 4, KvCache.bytes(cfg, 4));
        }
    }

    private static float[] lastRow(Transformer t, int[] ids, int n) {
        int V = t.config().vocab();
        return Arrays.copyOfRange(t.forward(ids, 0, n), (n - 1) * V, n * V);
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        float scale = 1;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++)
            if (Math.abs(want[i] - got[i]) > 1e-5f * scale) throw new AssertionError(what + ": logit " + i + " " + got[i] + " != " + want[i]);
    }
}
