package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.Tensor;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.TokenIds;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LoRA merges against PEFT's merge_and_unload() (../shared/samples/*-lora/reference/lora_refs.json). */
class LoraMergeTest {
    @TempDir
    Path tmp;

    /** A shared sample folder: skipped when ../shared/samples is missing, failed under CI. */
    static Path shared(String name) {
        return Samples.requireShared(name);
    }

    /** Merged in float32: every tensor's float64 sum and sum of squares as PEFT's, and its perplexity to 1e-4. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-gpt2"})
    void float32MergeEqualsPeft(String base) throws Exception {
        Path model = shared(base), adapter = shared(base + "-lora"), out = tmp.resolve("merged");
        CliRun r = CliRun.of("merge", model.toString(), adapter.toString(), "-o", out.toString(), "--dtype", "f32");
        assertEquals(0, r.code(), r.err());
        JsonNode ref = new ObjectMapper().readTree(adapter.resolve("reference/lora_refs.json").toFile());
        try (Checkpoint ck = Checkpoint.open(out)) {
            for (JsonNode e : ref.get("merged_tensors")) {
                String name = e.get("name").asText();
                Tensor t = ck.has(name) ? ck.tensor(name) : ck.tensor("transformer.wte.weight"); // GPT-2's lm_head is tied to wte
                double sum = 0, sumsq = 0;
                for (long i = 0; i < t.numel(); i++) {
                    double v = t.getDouble(i);
                    sum += v;
                    sumsq += v * v;
                }
                assertEquals(e.get("sum").asDouble(), sum, 1e-6 * Math.abs(e.get("sum").asDouble()) + 1e-9, name + " sum");
                assertEquals(e.get("sumsq").asDouble(), sumsq, 1e-6 * e.get("sumsq").asDouble(), name + " sumsq");
            }
        }
        JsonNode p = ref.get("merged_perplexity");
        assertEquals(p.get("nll_sum").asDouble(), nll(out, model, p.get("ctx").asInt(), p.get("chunks").asInt()), 1e-4 * p.get("nll_sum").asDouble());
    }

    /** Merged into the base's own dtype (BF16 for tiny-llama): the update is rounded once; perplexity within 1e-3. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-gpt2"})
    void mergeInTheBasesDtype(String base) throws Exception {
        Path model = shared(base), adapter = shared(base + "-lora"), out = tmp.resolve("merged");
        assertEquals(0, CliRun.of("merge", model.toString(), adapter.toString(), "-o", out.toString()).code());
        JsonNode p = new ObjectMapper().readTree(adapter.resolve("reference/lora_refs.json").toFile()).get("merged_perplexity");
        double want = p.get("ppl").asDouble(), got = Math.exp(nll(out, model, 128, 16) / p.get("scored_tokens").asDouble());
        assertEquals(want, got, 1e-3 * want);
    }

    /** quantize --lora merges on the fly: its NF4 output equals quantizing the float32-merged model, byte for byte. */
    @Test
    void quantizeWithLoraEqualsQuantizingTheMergedModel() throws Exception {
        Path model = shared("tiny-llama"), adapter = shared("tiny-llama-lora");
        Path merged = tmp.resolve("merged"), a = tmp.resolve("a"), b = tmp.resolve("b");
        assertEquals(0, CliRun.of("merge", model.toString(), adapter.toString(), "-o", merged.toString(), "--dtype", "f32").code());
        assertEquals(0, CliRun.of("quantize", merged.toString(), "-o", a.toString(), "--scheme", "nf4").code());
        CliRun r = CliRun.of("quantize", model.toString(), "-o", b.toString(), "--scheme", "nf4", "--lora", adapter.toString());
        assertEquals(0, r.code(), r.err());
        try (Checkpoint x = Checkpoint.open(a); Checkpoint y = Checkpoint.open(b)) {
            for (Tensor t : x.tensors())
                if (t.dtype() == DType.U8 && !t.name().contains(".quant_state.")) // (its dtype names the source's)
                    assertEquals(t, y.tensor(t.name()), t.name());
        }
    }

    /**
     * quantize --lora to GGUF: the same file, byte for byte, as quantizing the float32-merged model kept in a folder
     * named as the base (general.name comes from the folder name); no staging folder is left beside OUT.
     */
    @Test
    void quantizeWithLoraToGgufEqualsQuantizingTheMergedModel() throws Exception {
        Path model = shared("tiny-llama"), adapter = shared("tiny-llama-lora");
        Path merged = tmp.resolve("m").resolve(model.getFileName()), a = tmp.resolve("a.gguf"), b = tmp.resolve("out").resolve("b.gguf");
        assertEquals(0, CliRun.of("merge", model.toString(), adapter.toString(), "-o", merged.toString(), "--dtype", "f32").code());
        assertEquals(0, CliRun.of("quantize", merged.toString(), "-o", a.toString(), "--scheme", "Q4_K_M").code());
        CliRun r = CliRun.of("quantize", model.toString(), "-o", b.toString(), "--scheme", "Q4_K_M", "--lora", adapter.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        try (var left = Files.list(b.getParent())) {
            assertEquals(List.of("b.gguf"), left.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** What lowbit does not merge is refused with the key that says so; so is a quantized base. */
    @Test
    void refusals() throws Exception {
        Path adapter = shared("tiny-llama-lora"), dora = tmp.resolve("dora");
        Files.createDirectories(dora);
        Files.copy(adapter.resolve("adapter_model.safetensors"), dora.resolve("adapter_model.safetensors"));
        Files.writeString(dora.resolve("adapter_config.json"), Files.readString(adapter.resolve("adapter_config.json")).replace("\"use_dora\": false", "\"use_dora\": true"));
        CliRun r = CliRun.of("merge", shared("tiny-llama").toString(), dora.toString(), "-o", tmp.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("use_dora"), r.err());
        Path q = tmp.resolve("q");
        assertEquals(0, CliRun.of("quantize", shared("tiny-llama").toString(), "-o", q.toString(), "--scheme", "nf4").code());
        r = CliRun.of("merge", q.toString(), adapter.toString(), "-o", tmp.resolve("y").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is quantized: merge LoRA adapters into the float base"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x")) && !Files.exists(tmp.resolve("y")));
    }

    /** validate BASE BASE --lora A: the candidate is the merged model (its ppl is PEFT's to 1e-4), the base the original. */
    @Test
    void validateShowsWhatTheAdapterChanged() throws Exception {
        Path model = shared("tiny-llama"), adapter = shared("tiny-llama-lora");
        CliRun r = CliRun.of("validate", model.toString(), model.toString(), "--lora", adapter.toString(), "--ids",
                model.resolve("reference/eval_token_ids.i32").toString(), "--ctx", "128", "--max-chunks", "16", "--continuations", "0",
                "--report", tmp.resolve("report").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode d = new ObjectMapper().readTree(r.out()).get("drift");
        JsonNode ref = new ObjectMapper().readTree(adapter.resolve("reference/lora_refs.json").toFile()).get("merged_perplexity");
        double basePpl = Math.exp(nll(model, model, 128, 16) / ref.get("scored_tokens").asDouble());
        assertEquals(ref.get("ppl").asDouble(), d.get("candidate").get("ppl").asDouble(), 1e-4 * ref.get("ppl").asDouble());
        assertEquals(basePpl, d.get("base").get("ppl").asDouble(), 1e-9 * basePpl);
        assertTrue(d.get("kld").get("mean").asDouble() > 0, "the fine-tune changes the distribution");
    }

    @Test
    void mergeHasHelp() {
        CliRun r = CliRun.of("merge", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Examples:") && r.out().contains("--dtype"), r.out());
    }

    static double nll(Path model, Path base, int ctx, int chunks) throws Exception {
        int[] ids = TokenIds.read(base.resolve("reference/eval_token_ids.i32"));
        try (Transformer t = Transformer.open(model)) {
            return Perplexity.run(t, ids, ctx, chunks, null).nllSum();
        }
    }
}
