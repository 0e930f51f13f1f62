package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The engine against transformers: first-64 logits and perplexity at every reference ctx. */
class ReferenceTest {
    /**
     * tiny-llama's reference.json and logits were computed by a model cast with .to(bfloat16), which rounds RoPE's
     * inv_freq buffer (transformers reproduces the reference logits to 4.8e-6 that way, and differs by 5.6e-3 with
     * float32 frequencies); its rope_refs.json used float32 frequencies. The engine does either, by config key.
     */
    static Transformer open(Path dir) {
        boolean llama = ModelConfig.read(dir).arch() == Architecture.LLAMA;
        return llama ? Transformer.open(dir, java.util.Map.of("lowbit_rope_inv_freq_dtype", "bfloat16")) : Transformer.open(dir);
    }

    @ParameterizedTest
    @MethodSource("dev.lowbit.validate.SampleModels#all")
    void first64LogitsMatch(String model) {
        Path dir = SampleModels.dir(model);
        try (Checkpoint ref = Checkpoint.open(dir.resolve("reference/logits_first64.safetensors")); Transformer t = open(dir)) {
            int[] ids = ref.tensor("input_ids").toIntArray();
            float[] want = ref.tensor("logits").toFloatArray();
            float[] got = t.forward(ids, 0, ids.length);
            double max = 0;
            for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - got[i]));
            assertTrue(max <= 1e-3, "max |Δlogit| " + max);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.lowbit.validate.SampleModels#all")
    void perplexityMatchesAtEveryContext(String model) throws Exception {
        Path dir = SampleModels.dir(model);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference/reference.json").toFile());
        boolean embedded = model.equals("embedded");
        int[] ids = TokenIds.read(dir.resolve(embedded ? "reference/eval_token_ids_first16384.i32" : "reference/eval_token_ids.i32"));
        try (Transformer t = open(dir)) {
            for (JsonNode p : ref.get("perplexity")) {
                int ctx = p.get("ctx").asInt();
                int chunks = embedded ? Math.min(8, ids.length / ctx) : p.get("chunks").asInt();
                Perplexity.Result r = Perplexity.run(t, ids, ctx, chunks, null);
                assertEquals(chunks, r.chunkNll().length);
                double want = 0;
                for (int i = 0; i < chunks; i++) want += p.get("chunk_nll").get(i).asDouble();
                double wantPpl = Math.exp(want / r.scored());
                if (!embedded) assertEquals(p.get("ppl").asDouble(), wantPpl, 1e-9 * wantPpl, "reference self-consistency");
                assertEquals(wantPpl, r.ppl(), 1e-4 * wantPpl, "ppl at ctx " + ctx);
            }
        }
    }
}
