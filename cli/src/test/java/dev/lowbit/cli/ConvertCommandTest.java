package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    @TempDir
    Path tmp;

    static String[] err = new String[1];

    static int run(String... args) {
        StringWriter out = new StringWriter(), e = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(e, true));
        err[0] = e.toString();
        return code;
    }

    String[] convert(Path out, String scheme, String block, String gate) {
        return new String[] {"convert", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", scheme, "--block", block,
                "--text", Samples.evalTextHead().toString(), "--ctx", "256", "--max-chunks", "8", "--max-ppl-drift", gate,
                "--report", out.resolveSibling(out.getFileName() + "-report").toString()};
    }

    @Test
    void passingGatesLandTheArtifact() {
        Path out = tmp.resolve("nf4");
        assertEquals(0, run(convert(out, "nf4", "64", "2")), err[0]);
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(tmp.resolve("nf4-report/report.html")));
    }

    @Test
    void aFailingGateLeavesNoArtifactButAlwaysAReport() throws Exception {
        Path out = tmp.resolve("bad");
        assertEquals(1, run(convert(out, "fp4", "4096", "0.5")));
        assertTrue(err[0].contains("--max-ppl-drift 0.5") && err[0].contains("nothing written"), err[0]);
        assertFalse(Files.exists(out));
        assertTrue(Files.isRegularFile(tmp.resolve("bad-report/report.json")));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count(), "only the report folder: no staging left behind");
        }
        assertEquals(1, run(append(convert(out, "fp4", "4096", "0.5"), "--keep-on-fail")));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")), "--keep-on-fail keeps it");
    }

    static String[] append(String[] a, String x) {
        String[] b = java.util.Arrays.copyOf(a, a.length + 1);
        b[a.length] = x;
        return b;
    }

    @Test
    void demoRunsThePipelineOnTheEmbeddedSample() {
        assertEquals(0, run("demo", "--dir", tmp.toString(), "--max-chunks", "4"), err[0]);
        for (String d : new String[] {"nf4-dq", "int8"}) {
            assertTrue(Files.isRegularFile(tmp.resolve(d).resolve("model.safetensors")), d);
            assertTrue(Files.isRegularFile(tmp.resolve(d + "-report/report.md")), d);
            assertTrue(Files.isRegularFile(tmp.resolve(d + "-report/tokens.arrow")), d);
        }
    }
}
