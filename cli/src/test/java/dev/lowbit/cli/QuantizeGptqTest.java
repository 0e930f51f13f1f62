package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * quantize --gptq: GGUF and folder outputs are written with GPTQ (bytes differ from the plain encoder's) and run in the
 * engine; what GPTQ cannot do is refused in one line. The GPTQ math itself is checked in GptqTest.
 */
class QuantizeGptqTest {
    @TempDir
    Path tmp;

    @Test
    void writesGgufAndFolderThatRun() throws Exception {
        Path model = Samples.tinyLlama(), text = Samples.evalTextHead();
        Path g = tmp.resolve("gptq.gguf"), plain = tmp.resolve("plain.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), "-o", g.toString(), "--scheme", "Q4_0", "--gptq", "--calibrate", text.toString(), "--calib-ctx", "64", "-q");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, CliRun.of("quantize", model.toString(), "-o", plain.toString(), "--scheme", "Q4_0", "-q").code());
        assertEquals(Files.size(plain), Files.size(g), "same format, same size");
        assertFalse(Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(g)), "GPTQ changes the encoding");
        CliRun ppl = CliRun.of("perplexity", g.toString(), "--text", text.toString(), "--ctx", "64", "--max-chunks", "2", "--json");
        assertEquals(0, ppl.code(), ppl.err());

        Path f = tmp.resolve("nf4-gptq"), fp = tmp.resolve("nf4");
        assertEquals(0, CliRun.of("quantize", model.toString(), "-o", f.toString(), "--scheme", "nf4", "--gptq", "--gptq-damp", "0.05",
                "--calibrate", text.toString(), "--calib-ctx", "64", "-q").code());
        assertEquals(0, CliRun.of("quantize", model.toString(), "-o", fp.toString(), "--scheme", "nf4", "-q").code());
        assertFalse(Arrays.equals(Files.readAllBytes(f.resolve("model.safetensors")), Files.readAllBytes(fp.resolve("model.safetensors"))));
        assertEquals(0, CliRun.of("perplexity", f.toString(), "--text", text.toString(), "--ctx", "64", "--max-chunks", "2", "--json").code());
    }

    @Test
    void refusesWhatGptqCannotDo() {
        Path model = Samples.tinyLlama(), text = Samples.evalTextHead();
        Map<String[], String> cases = Map.of(
                new String[] {"--scheme", "nf4", "--gptq"}, "needs the layers' input statistics",
                new String[] {"--scheme", "nf4", "--gptq-damp", "0.1"}, "--gptq-damp without --gptq",
                new String[] {"--scheme", "nf4", "--gptq", "--scale-search", "--calibrate", text.toString()}, "--scale-search with --gptq",
                new String[] {"--scheme", "int8", "--layout", "hf-bnb", "--gptq", "--calibrate", text.toString()}, "not a block format",
                new String[] {"--scheme", "fp16", "--gptq", "--calibrate", text.toString()}, "does not quantize");
        for (var c : cases.entrySet()) {
            String[] args = new String[4 + c.getKey().length];
            args[0] = "quantize";
            args[1] = model.toString();
            args[2] = "-o";
            args[3] = tmp.resolve("out-" + Math.abs(c.getValue().hashCode())).toString();
            System.arraycopy(c.getKey(), 0, args, 4, c.getKey().length);
            CliRun r = CliRun.of(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertTrue(r.err().contains(c.getValue()), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(Path.of(args[3])), "nothing written");
        }
    }
}
