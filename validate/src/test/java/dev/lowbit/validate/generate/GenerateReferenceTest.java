package dev.lowbit.validate.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy and beam search against transformers' generate(). The expected ids in generate_refs.json (beside this class
 * in the test resources) were made by make_generate_refs.py in the same folder: transformers 5.18 / torch 2.13 CPU
 * load each shared sample model (tiny-gpt2, tiny-bloom, tiny-llama) upcast to float32, tokenize three prompts with the
 * model's tokenizer (special tokens included), and run generate() greedy with max_new_tokens=32 and num_beams=3 with
 * max_new_tokens=24 (length_penalty 1, early_stopping False), with use_cache True and False (the script asserts both
 * agree). Here lowbit must produce the same ids with its KV cache and without it, and its tokenizer the same prompt ids.
 */
class GenerateReferenceTest {
    static Stream<Arguments> cases() throws IOException {
        JsonNode root;
        try (InputStream in = GenerateReferenceTest.class.getResourceAsStream("generate_refs.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<Arguments> out = new ArrayList<>();
        root.get("models").properties().iterator().forEachRemaining(e -> {
            for (JsonNode c : e.getValue()) {
                for (boolean cache : new boolean[] {true, false}) {
                    out.add(Arguments.of(e.getKey(), c.get("prompt").asText(), ids(c.get("prompt_ids")), "greedy", ids(c.get("greedy")), cache));
                    out.add(Arguments.of(e.getKey(), c.get("prompt").asText(), ids(c.get("prompt_ids")), "beam3", ids(c.get("beam3")), cache));
                }
            }
        });
        return out.stream();
    }

    static int[] ids(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    @ParameterizedTest(name = "{0} {3} cache={5}: {1}")
    @MethodSource("cases")
    void matchesTransformers(String model, String prompt, int[] promptIds, String mode, int[] expected, boolean cache) {
        Path dir = Samples.requireShared(model);
        assertArrayEquals(promptIds, Tokenizer.load(dir).encode(prompt, true), "prompt ids");
        GenerationConfig cfg = GenerationConfig.of(dir, promptIds.length).withMaxNewTokens(mode.equals("greedy") ? 32 : 24);
        if (mode.equals("beam3")) cfg = new GenerationConfig(24, false, 1, 50, 1, 0, 1, 3, 1, "false", cfg.eosIds(), 0);
        try (Transformer t = Transformer.open(dir)) {
            assertArrayEquals(expected, new Generator(t, cfg, cache).generate(promptIds, id -> {}).generated());
        }
    }
}
