package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.quantizers.calib.ImatrixFile;
import dev.lowbit.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lowbit calibrate, and --imatrix/--calibrate/--scale-search on quantize: what is written, and what is refused. */
class CalibrateCommandTest {
    @TempDir
    Path tmp;

    @Test
    void calibrateWritesAnImatrixThatQuantizeUses() throws Exception {
        Path model = Samples.tinyLlama(), text = Samples.evalTextHead(), imx = tmp.resolve("imx.gguf");
        CliRun r = CliRun.of("calibrate", model.toString(), "--text", text.toString(), "-o", imx.toString(), "--ctx", "64", "--max-chunks", "3", "--hessian", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"tokens_per_second\""), r.out());
        Imatrix m = ImatrixFile.read(imx);
        assertEquals(3, m.chunkCount());
        assertEquals(64, m.chunkSize());
        assertEquals(192, m.tokens());
        assertEquals(List.of(text.toString()), m.datasets());
        assertEquals(28, m.names().size()); // 4 layers × q, k, v, o, gate, up, down
        assertNotNull(m.hessian("model.layers.0.self_attn.k_proj.weight"));
        // the shared input's XᵀX is stored once and found again under every weight that reads it
        assertTrue(m.stats().get("blk.0.attn_q.weight").xtx() == m.stats().get("blk.0.attn_v.weight").xtx());

        Path out = tmp.resolve("nf4");
        CliRun q = CliRun.of("quantize", model.toString(), "-o", out.toString(), "--scheme", "nf4", "--imatrix", imx.toString(), "-q");
        assertEquals(0, q.code(), q.err());
        Path plain = tmp.resolve("nf4-plain");
        assertEquals(0, CliRun.of("quantize", model.toString(), "-o", plain.toString(), "--scheme", "nf4", "-q").code());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(out.resolve("model.safetensors")), Files.readAllBytes(plain.resolve("model.safetensors"))),
                "the importance changes the encoding");
    }

    @Test
    void refusesWhatWouldDoNothingOrDoesNotFit() throws Exception {
        Path model = Samples.tinyLlama(), text = Samples.evalTextHead();
        Path imx = tmp.resolve("imx.gguf");
        assertEquals(0, CliRun.of("calibrate", model.toString(), "--text", text.toString(), "-o", imx.toString(), "--ctx", "64", "--max-chunks", "1", "-q").code());
        Map<String[], String> cases = Map.of(
                new String[] {"--scheme", "int8", "--imatrix", imx.toString()}, "ignores importance",
                new String[] {"--scheme", "fp16", "--scale-search"}, "ignores importance",
                new String[] {"--scheme", "nf4", "--imatrix", imx.toString(), "--calibrate", text.toString()}, "give one",
                new String[] {"--scheme", "nf4", "--imatrix", tmp.resolve("missing.gguf").toString()}, "no such file");
        for (var c : cases.entrySet()) {
            String[] args = new String[4 + c.getKey().length];
            args[0] = "quantize";
            args[1] = model.toString();
            args[2] = "-o";
            args[3] = tmp.resolve("out-" + c.getValue().hashCode()).toString();
            System.arraycopy(c.getKey(), 0, args, 4, c.getKey().length);
            CliRun r = CliRun.of(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(r.err().contains(c.getValue()), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        CliRun gguf = CliRun.of("quantize", model.toString(), "-o", tmp.resolve("x.gguf").toString(), "--scheme", "Q8_0", "--imatrix", imx.toString());
        assertEquals(2, gguf.code());
        assertTrue(gguf.err().contains("Q8_0 ignores importance"), gguf.err());
        // an importance matrix of another model: a weight tiny-llama's 4 layers do not have
        Imatrix m = ImatrixFile.read(imx);
        var stats = new java.util.HashMap<>(m.stats());
        stats.put("blk.9.attn_q.weight", m.stats().get("blk.0.attn_q.weight"));
        Path other = tmp.resolve("other.gguf");
        ImatrixFile.write(other, new Imatrix(stats, m.datasets(), m.chunkCount(), m.chunkSize()));
        CliRun r = CliRun.of("quantize", model.toString(), "-o", tmp.resolve("o").toString(), "--scheme", "nf4", "--imatrix", other.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("another model") && r.err().contains("blk.9.attn_q.weight"), r.err());
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
