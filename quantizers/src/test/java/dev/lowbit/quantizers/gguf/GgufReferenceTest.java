package dev.lowbit.quantizers.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.gguf.GgufWriter;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * lowbit's GGUF export against the files llama.cpp made from the shared samples (reference/gguf/gguf_refs.json):
 * the same type for every tensor, the same metadata and tensor infos byte for byte, and the same whole file (but for
 * the scores of a Llama-style tokenizer.json, see converterMeta).
 */
class GgufReferenceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> refs() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String s : List.of("tiny-llama", "tiny-gpt2", "tiny-bloom")) {
            JsonNode files = JSON.readTree(Samples.requireShared(s + "/reference/gguf/gguf_refs.json").toFile()).path("files");
            files.fieldNames().forEachRemaining(ft -> out.add(Arguments.of(s, ft)));
        }
        return out.stream();
    }

    static Path sample(String s) {
        return Samples.requireShared(s);
    }

    static JsonNode ref(Path dir, String ft) throws IOException {
        return JSON.readTree(dir.resolve("reference/gguf/gguf_refs.json").toFile()).path("files").path(ft);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refs")
    void recipePicksLlamaCppTypes(String sample, String ft) throws IOException {
        Path dir = sample(sample);
        GgufExport.Plan plan = GgufExport.plan(dir, GgufFileType.parse(ft));
        Map<String, String> want = new LinkedHashMap<>();
        ref(dir, ft).path("tensor_types").properties().iterator().forEachRemaining(e -> want.put(e.getKey(), e.getValue().asText()));
        Map<String, String> got = new LinkedHashMap<>();
        for (GgufExport.TensorPlan t : plan.tensors()) got.put(t.name(), t.type());
        assertEquals(want.keySet(), got.keySet(), "tensor names");
        for (var e : want.entrySet()) assertEquals(e.getValue(), got.get(e.getKey()), e.getKey());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refs")
    void metadataAndTensorInfosAreLlamaCpps(String sample, String ft) throws IOException {
        Path dir = sample(sample);
        JsonNode r = ref(dir, ft);
        GgufExport.Plan plan = GgufExport.plan(dir, GgufFileType.parse(ft));
        byte[] meta = converterMeta(dir, plan);
        byte[] refHead = new byte[meta.length];
        try (InputStream in = Files.newInputStream(dir.resolve("reference/gguf").resolve(r.path("file").asText()))) {
            assertEquals(meta.length, in.readNBytes(refHead, 0, meta.length));
        }
        if (!Arrays.equals(refHead, meta)) fail("metadata differs from " + r.path("file").asText() + ": " + ranges(refHead, meta));
        assertEquals(r.path("bytes").asLong(), GgufWriter.fileSize(plan.kv(), specs(plan)), "file size");
    }

    static List<GgufWriter.TensorSpec> specs(GgufExport.Plan plan) {
        List<GgufWriter.TensorSpec> specs = new ArrayList<>();
        for (GgufExport.TensorPlan t : plan.tensors()) specs.add(new GgufWriter.TensorSpec(t.name(), GgmlType.named(t.type()).id, t.ne(), t.bytes(), null));
        return specs;
    }

    /** Whether the sample's vocabulary is a Llama-style tokenizer.json (no tokenizer.model): _set_vocab_llama_hf's. */
    static boolean llamaHf(Path dir) {
        return !Files.exists(dir.resolve("tokenizer.model")) && GgufVocab.isLlamaHf(GgufVocab.readJson(dir.resolve("tokenizer.json")));
    }

    /**
     * The plan's metadata and tensor infos, with a Llama-style tokenizer.json's scores as the converter writes them
     * ({@link ConverterScores}; lowbit's are checked by {@link #llamaHfScoresAreMergeRanks}).
     */
    static byte[] converterMeta(Path dir, GgufExport.Plan plan) {
        byte[] meta = GgufWriter.meta(plan.kv(), specs(plan));
        return llamaHf(dir) ? ConverterScores.of(meta) : meta;
    }

    /**
     * tiny-llama's tokenizer.json is Llama-style BPE: each token's score is minus the rank of the first merge that
     * makes it (0 for merges[0]), the tokens no merge makes (bytes, single characters, specials) one below the last.
     * With these llama.cpp tokenizes the sample's eval text as transformers does (159,744 tokens compared, measured
     * with llama-perplexity's token dump); with the converter's −1000 its tokens left transformers' at the 14th.
     */
    @Test
    void llamaHfScoresAreMergeRanks() throws IOException {
        Path dir = sample("tiny-llama");
        JsonNode tok = JSON.readTree(dir.resolve("tokenizer.json").toFile()), merges = tok.path("model").path("merges");
        Map<String, Integer> first = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            JsonNode m = merges.get(r);
            first.putIfAbsent(m.isTextual() ? m.asText().replaceFirst(" ", "") : m.get(0).asText() + m.get(1).asText(), r);
        }
        GgufExport.Plan plan = GgufExport.plan(dir, GgufFileType.F16);
        List<?> tokens = plan.kv().get("tokenizer.ggml.tokens").asList(), scores = plan.kv().get("tokenizer.ggml.scores").asList();
        int base = tok.path("model").path("vocab").size(), made = 0;
        for (int id = 0; id < base; id++) {
            Integer r = first.get((String) tokens.get(id));
            if (r != null) made++;
            assertEquals(r != null ? -r : -(first.size() + 1), (double) scores.get(id), 0.0, tokens.get(id) + " (id " + id + ")");
        }
        assertTrue(made > 3000, made + " tokens made by merges");
        String firstMerge = merges.get(0).isTextual() ? merges.get(0).asText().replaceFirst(" ", "") : merges.get(0).get(0).asText() + merges.get(0).get(1).asText();
        assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits((double) scores.get(tokens.indexOf(firstMerge))), "+0 for the first merge");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refs")
    void fileIsByteIdentical(String sample, String ft, @TempDir Path tmp) throws Exception {
        Path dir = sample(sample);
        JsonNode r = ref(dir, ft);
        GgufFileType type = GgufFileType.parse(ft);
        GgufExport.Plan plan = GgufExport.plan(dir, type);
        Path out = tmp.resolve(sample + "-" + ft + ".gguf");
        GgufExport.Result res = GgufExport.run(dir, out, type, false, null);
        assertEquals(r.path("bytes").asLong(), res.fileBytes());
        byte[] got = Files.readAllBytes(out);
        if (llamaHf(dir)) got = ConverterScores.of(got); // see converterMeta
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(got));
        if (!sha.equals(r.path("sha256").asText())) {
            byte[] want = Files.readAllBytes(dir.resolve("reference/gguf").resolve(r.path("file").asText()));
            fail(ft + " differs from llama.cpp's file: " + ranges(want, got) + tensorsAt(want, got, plan, res));
        }
    }

    /** The differing byte ranges (at most 12). */
    static String ranges(byte[] a, byte[] b) {
        StringBuilder s = new StringBuilder();
        int n = Math.min(a.length, b.length), count = 0;
        for (int i = 0; i < n; i++) {
            if (a[i] == b[i]) continue;
            int j = i;
            while (j < n && a[j] != b[j]) j++;
            if (count++ < 12) s.append('[').append(i).append(", ").append(j).append(") ");
            i = j;
        }
        if (a.length != b.length) s.append("lengths ").append(a.length).append(" vs ").append(b.length);
        return count + " ranges " + s;
    }

    /** Which tensors hold differing bytes. */
    static String tensorsAt(byte[] want, byte[] got, GgufExport.Plan plan, GgufExport.Result res) {
        List<GgufWriter.TensorSpec> specs = new ArrayList<>();
        for (GgufExport.TensorPlan t : plan.tensors()) specs.add(new GgufWriter.TensorSpec(t.name(), 0, t.ne(), t.bytes(), null));
        long off = GgufWriter.meta(plan.kv(), specs).length;
        StringBuilder s = new StringBuilder("; tensors differing:");
        for (GgufExport.TensorPlan t : plan.tensors()) {
            int diff = 0;
            for (long i = off; i < off + t.bytes() && i < Math.min(want.length, got.length); i++) if (want[(int) i] != got[(int) i]) diff++;
            if (diff > 0) s.append(' ').append(t.name()).append(" (").append(t.type()).append(", ").append(diff).append(" bytes)");
            off += GgufWriter.pad(t.bytes(), 32);
        }
        return s.toString();
    }
}
