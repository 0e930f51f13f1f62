package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Long-context perplexity against transformers: RoPE scalings on tiny-llama, ALiBi extrapolation on tiny-bloom. */
class PositionReferenceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static void assertPpl(Transformer t, int[] ids, JsonNode ref, String what) {
        int ctx = ref.get("ctx").asInt(), chunks = ref.get("chunks").asInt();
        Perplexity.Result r = Perplexity.run(t, ids, ctx, chunks, null);
        double want = ref.get("ppl").asDouble();
        assertEquals(want, r.ppl(), 1e-4 * want, what + " at ctx " + ctx);
    }

    @Test
    void ropeScalingsMatchTransformers() throws Exception {
        Path dir = Samples.tinyLlama();
        JsonNode refs = JSON.readTree(dir.resolve("reference/rope_refs.json").toFile());
        int[] ids = TokenIds.read(dir.resolve("reference/eval_token_ids_first16384.i32"));
        for (JsonNode r : refs.get("rope_scaling")) {
            Map<String, Object> params = JSON.convertValue(r.get("rope_scaling"), new TypeReference<LinkedHashMap<String, Object>>() {});
            params.put("rope_theta", 10000.0);
            String type = params.get("rope_type").toString();
            try (Transformer t = Transformer.open(dir, Map.of("rope_parameters", params))) {
                assertPpl(t, ids, r, type);
                int ctx = r.get("ctx").asInt();
                float[] logits = t.forward(ids, 0, ctx);
                try (Checkpoint last = Checkpoint.open(dir.resolve("reference/rope_" + type + ".safetensors"))) {
                    float[] want = last.tensor("last8_logits_of_first_chunk").toFloatArray();
                    int vocab = t.config().vocab(), from = (ctx - 8) * vocab;
                    double max = 0;
                    for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - logits[from + i]));
                    assertTrue(max <= 1e-3, type + " last-8 logits max |Δ| " + max);
                }
            }
        }
        try (Transformer t = Transformer.open(dir)) {
            for (JsonNode r : refs.get("no_scaling_long_context")) assertPpl(t, ids, r, "no scaling");
        }
    }

    @Test
    void alibiExtrapolationMatchesTransformers() throws Exception {
        Path dir = SampleModels.dir("tiny-bloom");
        JsonNode refs = JSON.readTree(dir.resolve("reference/alibi_refs.json").toFile());
        int[] ids = TokenIds.read(dir.resolve("reference/eval_token_ids.i32"));
        try (Transformer t = Transformer.open(dir)) {
            for (JsonNode r : refs.get("alibi_extrapolated")) assertPpl(t, ids, r, "alibi");
        }
    }
}
