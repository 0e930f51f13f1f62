package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.lowbit.samples.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A lone .gguf file as the model of inspect, perplexity and validate. */
class GgufCommandsTest {
    @TempDir
    Path tmp;

    static Path llama() {
        return Samples.requireShared("tiny-llama");
    }

    static Path gguf(String type) {
        return llama().resolve("reference/gguf/tiny-llama-" + type + ".gguf");
    }

    @Test
    void inspectShowsArchitectureHyperParametersAndTypes() {
        CliRun r = CliRun.of("inspect", gguf("F16").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture  llama (LlamaForCausalLM)"), r.out());
        assertTrue(r.out().matches("(?s).*context_length\\s+1024.*"), r.out());
        assertTrue(r.out().matches("(?s).*attention\\.head_count_kv\\s+2.*"), r.out());
        assertTrue(r.out().matches("(?s).*tokenizer\\s+llama, 4096 tokens.*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.3\\.ffn_down\\.weight\\s+F16\\s+\\[256, 704\\].*"), r.out());
    }

    /**
     * A tokenizer.json with a token past the embedding's rows: quantize warns, and inspect of the file says llama.cpp
     * refuses it (llama-perplexity on such a file: "check_tensor_dims: tensor 'token_embd.weight' has wrong shape").
     */
    @Test
    void aVocabularyOtherThanTheEmbeddingIsNamedByQuantizeAndInspect() throws Exception {
        Path v = Files.createDirectories(tmp.resolve("tiny-llama"));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer_config.json"}) Files.createSymbolicLink(v.resolve(f), llama().resolve(f));
        ObjectMapper json = new ObjectMapper();
        JsonNode tok = json.readTree(llama().resolve("tokenizer.json").toFile());
        ((ArrayNode) tok.get("added_tokens")).addObject().put("id", 4096).put("content", "<|extra|>")
                .put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        json.writeValue(v.resolve("tokenizer.json").toFile(), tok);
        Path out = tmp.resolve("extra.gguf");
        CliRun q = CliRun.of("quantize", v.toString(), "-o", out.toString(), "--scheme", "F16");
        assertEquals(0, q.code(), q.err());
        assertTrue(q.err().contains("the vocabulary has 4097 tokens but the token embedding 4096 rows: llama.cpp refuses such a file"), q.err());
        CliRun quiet = CliRun.of("quantize", v.toString(), "-o", tmp.resolve("quiet.gguf").toString(), "--scheme", "F16", "-q");
        assertEquals(0, quiet.code(), quiet.err());
        assertFalse(quiet.err().contains("warning"), "-q: no warnings, " + quiet.err());
        CliRun r = CliRun.of("inspect", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tokenizer              llama, 4097 tokens for 4096 rows of token_embd.weight: llama.cpp refuses this file"), r.out());
        CliRun ok = CliRun.of("inspect", gguf("F16").toString());
        assertTrue(ok.out().contains("tokenizer              llama, 4096 tokens\n"), ok.out());
    }

    @Test
    void inspectJson() throws Exception {
        CliRun r = CliRun.of("inspect", gguf("BF16").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(39, j.get("tensors").size());
        assertEquals(4, j.get("config").get("block_count").asInt());
        assertTrue(j.get("bytes_by_dtype").has("BF16"));
    }

    @Test
    void perplexityOfAGgufFileFromText() throws Exception {
        Path text = tmp.resolve("eval.txt");
        Files.writeString(text, Files.readString(Samples.requireShared("eval_text.txt")).substring(0, 20000));
        CliRun r = CliRun.of("perplexity", gguf("F16").toString(), "--text", text.toString(), "--ctx", "128", "--max-chunks", "4", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        double ppl = j.get("ppl").asDouble();
        assertTrue(ppl > 20 && ppl < 300, "ppl " + ppl);
    }

    @Test
    void validateAFolderAgainstItsGguf() throws Exception {
        String ids = llama().resolve("reference/eval_token_ids.i32").toString();
        CliRun r = CliRun.of("validate", llama().toString(), gguf("F16").toString(), "--ids", ids, "--ctx", "128", "--max-chunks", "4",
                "--report", tmp.toString(), "--max-ppl-drift", "1");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode doc = new ObjectMapper().readTree(tmp.resolve("report.json").toFile());
        JsonNode tensors = doc.get("tensors");
        assertEquals(39, tensors.size());
        for (JsonNode t : tensors) assertTrue(t.get("error").get("rel_frobenius").asDouble() < 1e-3, t.toString());
        assertTrue(Files.size(tmp.resolve("tokens.arrow")) > 0);
    }

    @Test
    void aGgufOfAnUnknownArchitectureIsOneLineAndExit2() throws Exception {
        byte[] f = Files.readAllBytes(gguf("F16"));
        String s = new String(f, 0, 200, StandardCharsets.ISO_8859_1);
        int at = s.indexOf("llama", s.indexOf("general.architecture"));
        f[at + 4] = 'b';
        Path p = Files.write(tmp.resolve("odd.gguf"), f);
        CliRun r = CliRun.of("perplexity", p.toString(), "--ids", llama().resolve("reference/eval_token_ids.i32").toString(), "--ctx", "128");
        String msg = r.err().strip();
        assertEquals(2, r.code(), msg);
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains(p.toString()) && msg.contains("unknown architecture 'llamb'"), msg);
        assertFalse(msg.contains("Exception"), msg);
    }

    @Test
    void quantizingAGgufIsOneClearLine() {
        CliRun r = CliRun.of("quantize", gguf("F16").toString(), "-o", tmp.resolve("out").toString(), "--scheme", "int8");
        String msg = r.err().strip();
        assertEquals(2, r.code(), msg);
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains("a GGUF file, not safetensors"), msg);
    }
}
