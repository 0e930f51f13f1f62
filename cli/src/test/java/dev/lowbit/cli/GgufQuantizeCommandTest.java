package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.quantizers.gguf.ConverterScores;
import dev.lowbit.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufQuantizeCommandTest {
    @TempDir
    Path tmp;

    static Path shared(String name) {
        return Samples.requireShared(name);
    }

    @Test
    void ggufOutputIsLlamaCppsFile() throws Exception {
        Path in = shared("tiny-llama"), out = tmp.resolve("model-F16.gguf");
        CliRun r = CliRun.of("quantize", in.toString(), "-o", out.toString(), "--scheme", "f16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("done: GGUF F16"), r.out());
        JsonNode ref = new ObjectMapper().readTree(in.resolve("reference/gguf/gguf_refs.json").toFile()).path("files").path("F16");
        byte[] file = ConverterScores.of(Files.readAllBytes(out)); // lowbit's merge-rank scores aside, llama.cpp's bytes
        assertEquals(ref.path("sha256").asText(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temp file left beside the output");
        }
    }

    @Test
    void embeddedSampleWithFormatOption() throws Exception {
        Path out = tmp.resolve("model.bin");
        CliRun r = CliRun.of("quantize", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", "BF16", "--format", "gguf");
        assertEquals(0, r.code(), r.err());
        byte[] head = Files.readAllBytes(out);
        assertEquals("GGUF", new String(head, 0, 4, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void dryRunPrintsTheRecipeAndWritesNothing() {
        Path in = shared("tiny-llama"), out = tmp.resolve("x.gguf");
        CliRun r = CliRun.of("quantize", in.toString(), "-o", out.toString(), "--scheme", "q4_k_m", "--dry-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*output\\.weight\\s+Q6_K\\s+\\[256, 4096\\].*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.ffn_down\\.weight\\s+Q5_0.*"), r.out());
        assertTrue(r.out().contains("plan: GGUF Q4_K_M (general.file_type 15, llama)"), r.out());
        assertTrue(r.out().contains("3,370,592 bytes"), r.out());
        assertFalse(Files.exists(out));
    }

    @Test
    void jsonDryRun() throws Exception {
        Path in = shared("tiny-gpt2");
        CliRun r = CliRun.of("quantize", in.toString(), "-o", tmp.resolve("g.gguf").toString(), "--scheme", "Q8_0", "--dry-run", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3675936, j.path("file_bytes").asLong());
        assertEquals("gpt2", j.path("arch").asText());
        assertEquals(7, j.path("file_type_id").asInt());
    }

    @Test
    void optionsThatMeanNothingForGgufAreRefused() {
        CliRun r = CliRun.of("quantize", Samples.tinyLlama().toString(), "-o", tmp.resolve("x.gguf").toString(), "--scheme", "Q4_0", "--layout", "lowbit",
                "--double-quant");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--layout, --double-quant mean nothing for GGUF"), r.err());
        CliRun u = CliRun.of("quantize", Samples.tinyLlama().toString(), "-o", tmp.resolve("x.gguf").toString(), "--scheme", "nf4");
        assertEquals(2, u.code());
        assertTrue(u.err().contains("unknown GGUF scheme 'nf4'"), u.err());
        assertFalse(Files.exists(tmp.resolve("x.gguf")));
    }
}
