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

    /** The report's continuations: greedy ids as `lowbit generate` gives them, the first difference and its mean recounted here. */
    @Test
    void validateReportsContinuationsSideBySide() throws Exception {
        Path q = tmp.resolve("q"), rep = tmp.resolve("rep"), prompts = tmp.resolve("prompts.txt");
        assertEquals(0, CliRun.of("-q", "quantize", Samples.tinyLlama().toString(), "-o", q.toString(), "--scheme", "int4").code());
        Files.writeString(prompts, "The hacker wrote\n\nNever trust a computer\n");
        String ids = Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32").toString();
        CliRun v = CliRun.of("validate", Samples.tinyLlama().toString(), q.toString(), "--ids", ids, "--ctx", "64", "--max-chunks", "2",
                "--report", rep.toString(), "--prompts", prompts.toString(), "--continuations", "16");
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().contains("greedy continuations agree"), v.out());
        JsonNode c = new ObjectMapper().readTree(rep.resolve("report.json").toFile()).get("continuations");
        assertEquals(16, c.get("new_tokens").asInt());
        assertEquals(2, c.get("prompts").size());
        double sum = 0;
        String[] texts = {"The hacker wrote", "Never trust a computer"};
        for (int i = 0; i < 2; i++) {
            JsonNode p = c.get("prompts").get(i), b = p.get("base_ids"), k = p.get("candidate_ids");
            int agree = 0;
            while (agree < Math.min(b.size(), k.size()) && b.get(agree).equals(k.get(agree))) agree++;
            assertEquals(agree, p.get("agreeing_tokens").asInt());
            assertEquals(b.equals(k) ? null : agree, p.get("first_diff").isNull() ? null : p.get("first_diff").asInt());
            sum += agree;
            assertEquals(texts[i], p.get("prompt").asText());
            for (var side : new String[][] {{Samples.tinyLlama().toString(), "base_ids"}, {q.toString(), "candidate_ids"}})
                assertEquals(json(CliRun.of("generate", side[0], "--prompt", texts[i], "--greedy", "--max-new-tokens", "16", "--json")).get("generated_ids"), p.get(side[1]));
        }
        assertEquals(sum / 2, c.get("mean_first_diff").asDouble(), 1e-12);
        assertTrue(Files.readString(rep.resolve("report.md")).contains("#### Continuations (greedy, 16 new tokens)"));
        Path rep0 = tmp.resolve("rep0");
        assertEquals(0, CliRun.of("validate", Samples.tinyLlama().toString(), q.toString(), "--ids", ids, "--ctx", "64", "--max-chunks", "1",
                "--report", rep0.toString(), "--continuations", "0").code());
        assertTrue(new ObjectMapper().readTree(rep0.resolve("report.json").toFile()).path("continuations").isMissingNode());
        CliRun bad = CliRun.of("validate", Samples.tinyLlama().toString(), q.toString(), "--ids", ids, "--ctx", "64", "--max-chunks", "1",
                "--report", rep0.toString(), "--continuations", "0", "--prompts", prompts.toString());
        assertEquals(Main.EXIT_BAD_INPUT, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
