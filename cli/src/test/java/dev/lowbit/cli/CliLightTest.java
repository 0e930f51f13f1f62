package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher runs inspect, help and completion without the Vector API's incubator module (a faster start: see
 * ./lowbit). Here each runs in a JVM started that way, on every kind of input inspect reads: the embedded sample, every
 * shared sample folder and llama.cpp's GGUF files of them, and lowbit's quantized folders (bitsandbytes NF4 and int8,
 * lowbit's own layout). A class that refers to the Vector API loaded on the way fails with NoClassDefFoundError.
 */
class CliLightTest {
    @TempDir
    Path tmp;

    /** `java` without --add-modules jdk.incubator.vector, as the launcher starts light commands; exit code and stderr. */
    private static Result light(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", args) + ": still running");
        return new Result(p.exitValue(), err);
    }

    private record Result(int code, String err) {}

    private static void runsLight(String... args) throws Exception {
        Result r = light(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        assertFalse(r.err().contains("NoClassDefFoundError") || r.err().contains("incubator"), String.join(" ", args) + ": " + r.err());
    }

    @Test
    void theHarnessSeesAVectorApiUse() throws Exception {
        // --version reports the kernels' vector width, so the launcher keeps the module for it: without, it fails.
        Result r = light("--version");
        assertTrue(r.code() != 0 && r.err().contains("NoClassDefFoundError: jdk/incubator/vector"), r.err());
    }

    @Test
    void helpAndCompletionRunWithoutTheVectorModule() throws Exception {
        runsLight("--help");
        runsLight("help");
        runsLight("help", "quantize");
        runsLight("generate-completion");
    }

    @Test
    void inspectReadsLowbitsOutputsWithoutTheVectorModule() throws Exception {
        String model = Samples.tinyLlama().toString();
        runsLight("inspect", model);
        runsLight("inspect", "--json", model);
        String[][] outputs = {{"nf4-dq", "--scheme", "nf4", "--double-quant"}, {"int8", "--scheme", "int8"}, {"nf4-lowbit", "--scheme", "nf4", "--layout", "lowbit"},
                {"int4-lowbit", "--scheme", "int4", "--layout", "lowbit"}, {"q4km.gguf", "--scheme", "Q4_K_M"}};
        for (String[] o : outputs) {
            Path out = tmp.resolve(o[0]);
            List<String> args = new ArrayList<>(List.of("quantize", model, "-o", out.toString(), "-q"));
            args.addAll(List.of(o).subList(1, o.length));
            CliRun q = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, q.code(), q.err());
            runsLight("inspect", out.toString());
        }
    }

    @Test
    void inspectReadsEverySharedSampleWithoutTheVectorModule() throws Exception {
        Path samples = Samples.requireShared("tiny-llama").getParent();
        List<Path> inputs = new ArrayList<>();
        try (Stream<Path> s = Files.list(samples)) {
            for (Path m : s.filter(Files::isDirectory).sorted().toList()) {
                inputs.add(m);
                Path gguf = m.resolve("reference/gguf");
                if (Files.isDirectory(gguf))
                    try (Stream<Path> g = Files.list(gguf)) {
                        g.filter(f -> f.toString().endsWith(".gguf")).sorted().forEach(inputs::add);
                    }
            }
        }
        assertTrue(inputs.stream().anyMatch(p -> p.toString().endsWith(".gguf")), inputs.toString());
        for (Path in : inputs) runsLight("inspect", in.toString());
    }
}
