package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** lowbit generate end to end: cache and no-cache agree on quantized models, text mode prints the JSON's text, refusals. */
class GenerateCommandTest {
    @TempDir
    Path tmp;

    static JsonNode json(CliRun r) throws Exception {
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out());
    }

    /** Greedy and beam search over the KV cache give the same ids as recomputing every step, on quantized weights. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama/reference/gguf/tiny-llama-Q8_0.gguf", "tiny-gpt2/reference/gguf/tiny-gpt2-Q4_0.gguf", "int8-hf-bnb", "nf4"})
    void cacheAndNoCacheGiveTheSameTokensOnQuantizedModels(String model) throws Exception {
        String m;
        if (model.equals("int8-hf-bnb") || model.equals("nf4")) {
            Path out = tmp.resolve(model);
            String[] q = model.equals("nf4") ? new String[] {"--scheme", "nf4"} : new String[] {"--scheme", "int8", "--layout", "hf-bnb"};
            assertEquals(0, CliRun.of(concat(new String[] {"quantize", Samples.tinyLlama().toString(), "-o", out.toString()}, q)).code());
            m = out.toString();
        } else m = Samples.requireShared(model).toString();
        for (String beams : new String[] {"1", "3"}) {
            JsonNode cached = json(CliRun.of("generate", m, "--prompt", "The hacker wrote", "--max-new-tokens", "24", "--num-beams", beams, "--json"));
            JsonNode plain = json(CliRun.of("generate", m, "--prompt", "The hacker wrote", "--max-new-tokens", "24", "--num-beams", beams, "--json", "--no-cache"));
            assertTrue(cached.get("generated_ids").size() > 0);
            assertEquals(cached.get("generated_ids"), plain.get("generated_ids"), model + " beams " + beams);
            assertTrue(cached.path("timings").path("kv_cache_bytes").asLong() > 0);
        }
    }

    @Test
    void streamedTextIsTheJsonTextAndSeedsRepeat() throws Exception {
        String m = Samples.tinyLlama().toString();
        Path prompt = tmp.resolve("prompt.txt");
        Files.writeString(prompt, "A drama critic is");
        String[] args = {"generate", m, "--prompt-file", prompt.toString(), "--max-new-tokens", "20", "--sample", "--seed", "11", "--top-k", "20"};
        CliRun text = CliRun.of(args);
        assertEquals(0, text.code(), text.err());
        assertTrue(text.err().contains("tok/s"), text.err());
        JsonNode j = json(CliRun.of(concat(args, new String[] {"--json"})));
        assertEquals(j.get("text").asText() + System.lineSeparator(), text.out());
        assertEquals(j.get("generated_ids"), json(CliRun.of(concat(args, new String[] {"--json"}))).get("generated_ids"), "same seed, same ids");
        assertEquals(11, j.path("settings").path("seed").asLong());
    }

    @Test
    void optionsThatWouldDoNothingAreRefused() {
        String m = Samples.tinyLlama().toString();
        String[][] bad = {
                {"--temperature", "0.7"},
                {"--seed", "1"},
                {"--sample", "--num-beams", "2"},
                {"--length-penalty", "2"},
                {"--sample", "--greedy"},
                {"--sample", "--top-p", "1.5"},
        };
        for (String[] b : bad) {
            CliRun r = CliRun.of(concat(new String[] {"generate", m, "--prompt", "Hi", "--max-new-tokens", "2"}, b));
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), String.join(" ", b) + ": " + r.out());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.out().isEmpty(), r.out());
        }
        CliRun r = CliRun.of("generate", Samples.requireShared("tiny-gpt2").toString(), "--prompt", "Hi", "--max-new-tokens", "5000");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("learned positions"), r.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
