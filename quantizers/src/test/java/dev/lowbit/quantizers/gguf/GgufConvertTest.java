package dev.lowbit.quantizers.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufWriter;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config and tokenizer variants real checkpoints come in, on copies of the samples. */
class GgufConvertTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    int variants;

    static Path shared(String s) {
        return Samples.requireShared(s);
    }

    /** A copy of a sample (same folder name, weights linked) with its config.json edited. */
    Path variant(String sample, Consumer<ObjectNode> edit) throws IOException {
        Path src = shared(sample), dst = tmp.resolve("v" + (++variants)).resolve(sample);
        Files.createDirectories(dst);
        for (String f : List.of("model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"))
            if (Files.exists(src.resolve(f))) Files.createSymbolicLink(dst.resolve(f), src.resolve(f));
        ObjectNode c = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        edit.accept(c);
        JSON.writeValue(dst.resolve("config.json").toFile(), c);
        return dst;
    }

    static byte[] meta(GgufExport.Plan p) {
        List<GgufWriter.TensorSpec> specs = new ArrayList<>();
        for (GgufExport.TensorPlan t : p.tensors()) specs.add(new GgufWriter.TensorSpec(t.name(), GgmlType.named(t.type()).id, t.ne(), t.bytes(), null));
        return GgufWriter.meta(p.kv(), specs);
    }

    @Test
    void transformers4ConfigGivesTheSameFile() throws IOException {
        Path v4 = variant("tiny-llama", c -> {
            c.remove("rope_parameters");
            c.put("rope_theta", 10000.0);
            c.putNull("rope_scaling");
            c.put("torch_dtype", c.remove("dtype").asText());
            c.put("transformers_version", "4.46.0");
        });
        assertArrayEquals(meta(GgufExport.plan(shared("tiny-llama"), GgufFileType.F16)), meta(GgufExport.plan(v4, GgufFileType.F16)));
    }

    @Test
    void ropeScalingKeys() throws IOException {
        Path yarn = variant("tiny-llama", c -> c.putObject("rope_parameters").put("rope_type", "yarn").put("factor", 4.0).put("rope_theta", 10000.0)
                .put("original_max_position_embeddings", 256).put("beta_fast", 32.0).put("beta_slow", 1.0).put("attention_factor", 1.1));
        LinkedHashMap<String, GgufValue> kv = GgufExport.plan(yarn, GgufFileType.F16).kv();
        List<String> keys = new ArrayList<>(kv.keySet());
        int i = keys.indexOf("llama.rope.scaling.type");
        assertEquals(List.of("llama.rope.scaling.type", "llama.rope.scaling.factor", "llama.rope.scaling.original_context_length",
                "llama.rope.scaling.yarn_attn_factor", "llama.rope.scaling.yarn_beta_fast", "llama.rope.scaling.yarn_beta_slow", "llama.rope.freq_base"),
                keys.subList(i, i + 7));
        assertEquals("yarn", kv.get("llama.rope.scaling.type").asString());
        assertEquals(4.0, kv.get("llama.rope.scaling.factor").asDouble());
        assertEquals(256, kv.get("llama.rope.scaling.original_context_length").asLong());
        assertEquals(1.1f, (float) kv.get("llama.rope.scaling.yarn_attn_factor").asDouble());

        Path linear4 = variant("tiny-llama", c -> {
            c.remove("rope_parameters");
            c.put("rope_theta", 500000.0);
            c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        });
        kv = GgufExport.plan(linear4, GgufFileType.F16).kv();
        assertEquals("linear", kv.get("llama.rope.scaling.type").asString());
        assertEquals(2.0, kv.get("llama.rope.scaling.factor").asDouble());
        assertEquals(500000.0, kv.get("llama.rope.freq_base").asDouble());
        assertFalse(kv.containsKey("llama.rope.scaling.original_context_length"));
    }

    @Test
    void llama3RopeWritesRopeFreqs() throws IOException {
        Path l3 = variant("tiny-llama", c -> c.putObject("rope_parameters").put("rope_type", "llama3").put("factor", 8.0).put("rope_theta", 500000.0)
                .put("low_freq_factor", 1.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192));
        GgufExport.Plan p = GgufExport.plan(l3, GgufFileType.F16);
        assertEquals("rope_freqs.weight", p.tensors().getFirst().name());
        assertEquals("F32", p.tensors().getFirst().type());
        assertArrayEquals(new long[] {16}, p.tensors().getFirst().ne());
        assertFalse(p.kv().containsKey("llama.rope.scaling.type"));
    }

    @Test
    void qwen2IsNotPermuted() throws IOException {
        Path q = variant("tiny-llama", c -> {
            c.putArray("architectures").add("Qwen2ForCausalLM");
            c.put("model_type", "qwen2");
        });
        try (HfModel qwen = HfModel.open(q); HfModel llama = HfModel.open(shared("tiny-llama"));
                Checkpoint ck = Checkpoint.open(shared("tiny-llama"))) {
            float[] raw = HfModel.read(ck.tensor("model.layers.0.self_attn.q_proj.weight"));
            float[] qq = find(qwen, "blk.0.attn_q.weight"), lq = find(llama, "blk.0.attn_q.weight");
            assertArrayEquals(raw, qq, "qwen2 keeps the HF (NEOX) row order");
            assertNotEquals(java.util.Arrays.toString(raw), java.util.Arrays.toString(lq));
            for (int h = 0; h < 8; h++)
                for (int i = 0; i < 16; i++)
                    for (int j = 0; j < 2; j++)
                        for (int c = 0; c < 256; c += 51)
                            assertEquals(raw[(h * 32 + j * 16 + i) * 256 + c], lq[(h * 32 + 2 * i + j) * 256 + c], "llama: rows interleaved per head");
            LinkedHashMap<String, GgufValue> kv = qwen.metadata(1).map;
            assertEquals("qwen2", kv.get("general.architecture").asString());
            assertTrue(kv.containsKey("qwen2.rope.freq_base"));
            assertFalse(kv.containsKey("qwen2.rope.dimension_count"));
            assertFalse(kv.containsKey("qwen2.vocab_size"));
        }
    }

    @Test
    void sentencePieceModelIsReadAsTheConverterReadsIt() throws Exception {
        Path v = variant("tiny-llama", c -> {});
        try (var in = GgufConvertTest.class.getResourceAsStream("tiny-sp.model")) {
            Files.copy(in, v.resolve("tokenizer.model"));
        }
        LinkedHashMap<String, GgufValue> kv = GgufExport.plan(v, GgufFileType.F16).kv();
        List<?> tokens = kv.get("tokenizer.ggml.tokens").asList(), scores = kv.get("tokenizer.ggml.scores").asList(), types = kv.get("tokenizer.ggml.token_type").asList();
        assertEquals(4096, tokens.size(), "padded to config.json's vocab_size");
        // expectations from sentencepiece 0.2 on the same model
        assertEquals(List.of("<unk>", "<s>", "</s>", "<tool>", "<0x00>"), tokens.subList(0, 5));
        assertEquals(List.of(2L, 3L, 3L, 1L, 6L), types.subList(0, 5), "unknown, control, control, user-defined read as normal, byte");
        assertEquals("\u2581t", tokens.get(260));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits((float) (double) (Double) scores.get(260)));
        assertEquals(-1.0, scores.get(261));
        assertEquals("]", tokens.get(399));
        assertEquals(-139.0, scores.get(399));
        assertEquals("[PAD400]", tokens.get(400));
        assertEquals(-10000.0, scores.get(400));
        assertEquals(5L, types.get(400));
        assertEquals("default", kv.get("tokenizer.ggml.pre").asString());
        assertEquals(1, kv.get("tokenizer.ggml.bos_token_id").asLong());
    }

    /**
     * A Llama-style BPE tokenizer (no tokenizer.model) with fewer tokens than the embedding has rows, as in a model whose
     * vocab_size was padded past its tokenizer: convert_hf_to_gguf.py's _set_vocab_llama_hf stops at the last token and
     * llama.cpp refuses that file ("token_embd.weight has wrong shape"); the ids past the tokenizer get the padding the
     * converter gives a sentencepiece vocabulary (_create_vocab_sentencepiece: [PADid], -10000, UNUSED).
     */
    @Test
    void llamaHfVocabularyShorterThanTheEmbeddingIsPaddedToIt() throws IOException {
        Path v = variant("tiny-llama", c -> {});
        ObjectNode tok = (ObjectNode) JSON.readTree(shared("tiny-llama").resolve("tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        List<String> past = new ArrayList<>();
        vocab.properties().forEach(e -> {
            if (e.getValue().asInt() >= 4000) past.add(e.getKey());
        });
        assertEquals(96, past.size());
        vocab.remove(past);
        Files.delete(v.resolve("tokenizer.json"));
        JSON.writeValue(v.resolve("tokenizer.json").toFile(), tok);

        GgufExport.Plan p = GgufExport.plan(v, GgufFileType.F16), full = GgufExport.plan(shared("tiny-llama"), GgufFileType.F16);
        List<?> tokens = p.kv().get("tokenizer.ggml.tokens").asList(), scores = p.kv().get("tokenizer.ggml.scores").asList(),
                types = p.kv().get("tokenizer.ggml.token_type").asList();
        assertEquals(4096, tokens.size(), "a token per row of token_embd.weight");
        assertEquals(4096, scores.size());
        assertEquals(4096, types.size());
        assertEquals(full.kv().get("tokenizer.ggml.tokens").asList().subList(0, 4000), tokens.subList(0, 4000));
        assertEquals(full.kv().get("tokenizer.ggml.token_type").asList().subList(0, 4000), types.subList(0, 4000));
        assertEquals(List.of("[PAD4000]", "[PAD4095]"), List.of(tokens.get(4000), tokens.get(4095)));
        assertEquals(List.of(-10000.0, -10000.0), List.of(scores.get(4000), scores.get(4095)));
        assertEquals(List.of(5L, 5L), List.of(types.get(4000), types.get(4095)));
        assertEquals(1, p.warnings().stream().filter(w -> w.contains("4000 tokens for 4096 embedding rows")).count(), p.warnings().toString());
        assertTrue(full.warnings().stream().noneMatch(w -> w.contains("embedding")), full.warnings().toString());
    }

    /** A vocabulary that still does not match the embedding (here config.json's vocab_size past it) is named in a warning. */
    @Test
    void vocabularyOtherThanTheEmbeddingIsWarnedOf() throws IOException {
        Path v = variant("tiny-gpt2", c -> c.put("vocab_size", 4160));
        GgufExport.Plan p = GgufExport.plan(v, GgufFileType.F16);
        assertEquals(4160, p.kv().get("tokenizer.ggml.tokens").asList().size(), "padded to vocab_size as the converter does");
        assertEquals(1, p.warnings().stream().filter(w -> w.endsWith("tokenizer.json: the vocabulary has 4160 tokens but the token embedding 4096 rows: "
                + "llama.cpp refuses such a file (check_tensor_dims)")).count(), p.warnings().toString());
        assertTrue(GgufExport.plan(shared("tiny-gpt2"), GgufFileType.F16).warnings().stream().noneMatch(w -> w.contains("embedding")));
    }

    /** Mistral's sliding_window has no GGUF key and llama.cpp's llama attends to the whole context: said in a warning. */
    @Test
    void mistralSlidingWindowIsWarnedOf() throws IOException {
        Path v = variant("tiny-llama", c -> {
            c.putArray("architectures").add("MistralForCausalLM");
            c.put("model_type", "mistral").put("sliding_window", 64);
        });
        GgufExport.Plan p = GgufExport.plan(v, GgufFileType.F16);
        assertEquals(1, p.warnings().stream().filter(w -> w.contains("sliding_window 64: the GGUF has no sliding-window key")).count(), p.warnings().toString());
        assertArrayEquals(meta(GgufExport.plan(shared("tiny-llama"), GgufFileType.F16)), meta(p), "the same file as the Llama");
        Path none = variant("tiny-llama", c -> {
            c.putArray("architectures").add("MistralForCausalLM");
            c.put("model_type", "mistral").putNull("sliding_window");
        });
        assertTrue(GgufExport.plan(none, GgufFileType.F16).warnings().stream().noneMatch(w -> w.contains("sliding")));
    }

    static float[] find(HfModel m, String name) {
        return m.items.stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow().data().get();
    }

    @Test
    void preTokenizerFromRegex() throws IOException {
        List<String> warn = new ArrayList<>();
        assertEquals("gpt-2", GgufVocab.preTokenizer(tok("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}"), warn::add));
        assertEquals("llama-bpe", GgufVocab.preTokenizer(tok(split(GgufVocab.LLAMA3_REGEX)), warn::add));
        assertEquals("qwen2", GgufVocab.preTokenizer(tok(split(GgufVocab.QWEN2_REGEX)), warn::add));
        assertEquals("gpt-2", GgufVocab.preTokenizer(tok(split(GgufVocab.GPT2_REGEX)), warn::add));
        assertTrue(warn.isEmpty(), warn.toString());
        assertEquals("gpt-2", GgufVocab.preTokenizer(tok(split("\\\\p{L}+|\\\\s+")), warn::add));
        assertEquals(1, warn.size());
        assertTrue(warn.getFirst().contains("unrecognised pre-tokenizer"), warn.getFirst());
        assertEquals("default", GgufVocab.preTokenizer(tok("{\"type\":\"Whitespace\"}"), warn::add));
    }

    static String split(String regex) throws IOException {
        return "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" + JSON.writeValueAsString(regex)
                + "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]}";
    }

    static JsonNode tok(String pre) throws IOException {
        return JSON.readTree("{\"pre_tokenizer\":" + pre + "}");
    }

    @Test
    void namingHeuristics() {
        assertEquals("Tiny Llama", GgufNaming.idToTitle(GgufNaming.components("tiny-llama", 4_900_000).fullName()));
        GgufNaming.Components c = GgufNaming.components("meta-llama/Llama-3.2-1B-Instruct", 1_235_814_400L);
        assertEquals("Llama-3.2-1B-Instruct", c.fullName());
        assertEquals("meta-llama", c.org());
        assertEquals("Llama-3.2", c.basename());
        assertEquals("1B", c.sizeLabel());
        assertEquals("Instruct", c.finetune());
        assertEquals("4.9M", GgufNaming.sizeLabel(4_888_832));
        assertEquals("2.8M", GgufNaming.sizeLabel(2_836_416));
        assertEquals("1.2B", GgufNaming.sizeLabel(1_235_814_400L));
        assertEquals("7.2B", GgufNaming.sizeLabel(7_241_732_096L));
        assertEquals("135M", GgufNaming.sizeLabel(134_515_008L));
        assertEquals("Gpt2 Xl", GgufNaming.idToTitle("gpt2-xl"));
    }
}
