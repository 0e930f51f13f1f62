package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.quantizers.gguf.ConverterScores;
import dev.lowbit.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert to GGUF: llama.cpp's bytes, validated by running that file, landing only when the gate passes. */
class GgufConvertCommandTest {
    @TempDir
    Path tmp;

    @Test
    void convertWritesLlamaCppsFileAndGatesIt() throws Exception {
        Path llama = Samples.requireShared("tiny-llama"), ref = llama.resolve("reference/gguf/tiny-llama-Q4_K_M.gguf");
        String ids = llama.resolve("reference/eval_token_ids.i32").toString();
        Path out = tmp.resolve("m-Q4_K_M.gguf"), rep = tmp.resolve("rep");
        CliRun r = CliRun.of("convert", llama.toString(), "-o", out.toString(), "--scheme", "q4_k_m", "--ids", ids, "--ctx", "128",
                "--max-chunks", "4", "--max-kld", "0.01", "--report", rep.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertArrayEquals(Files.readAllBytes(ref), ConverterScores.of(Files.readAllBytes(out)), "the artifact is llama.cpp's own Q4_K_M file (but for its vocabulary's scores)");
        JsonNode d = new ObjectMapper().readTree(rep.resolve("report.json").toFile()).get("drift");
        double kld = d.get("kld").get("mean").asDouble();
        assertTrue(kld > 0 && kld < 0.01, "mean KLD " + kld);
        // a gate it cannot pass: nothing lands, the report says why
        Path out2 = tmp.resolve("m2-Q4_K_M.gguf");
        r = CliRun.of("convert", llama.toString(), "-o", out2.toString(), "--scheme", "Q4_K_M", "--ids", ids, "--ctx", "128", "--max-chunks", "4",
                "--max-kld", "0.000001", "--report", tmp.resolve("rep2").toString());
        assertEquals(1, r.code(), r.err());
        assertFalse(Files.exists(out2));
        assertTrue(r.err().contains("--max-kld"), r.err());
        r = CliRun.of("convert", llama.toString(), "-o", tmp.resolve("x.gguf").toString(), "--scheme", "Q4_0", "--block", "32", "--ids", ids);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--block") && r.err().contains("not for GGUF output"), r.err());
    }
}
