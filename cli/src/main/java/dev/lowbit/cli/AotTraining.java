package dev.lowbit.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run the launcher records the ahead-of-time cache from (JDK 25, -XX:AOTCacheOutput): a few short
 * commands on the embedded sample, in one process, so that the classes and method profiles of perplexity, the GGUF
 * quantizers (llama.cpp's legacy and K types) and bitsandbytes' NF4 are in the cache, not only those of one command.
 * Output is discarded; the files go to a temp folder that is removed. Exits non-zero if a command fails.
 */
public final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: AotTraining MODEL TEXT");
            System.exit(2);
        }
        String model = args[0], text = args[1];
        Path dir = Files.createTempDirectory("lowbit-aot");
        PrintWriter sink = new PrintWriter(OutputStream.nullOutputStream());
        int failed = 0;
        try {
            List<String[]> commands = List.of(
                    new String[] {"inspect", model},
                    new String[] {"perplexity", model, "--text", text, "--ctx", "64", "--max-chunks", "2", "-q"},
                    new String[] {"quantize", model, "-o", dir.resolve("q4km.gguf").toString(), "--scheme", "Q4_K_M", "-q"},
                    new String[] {"quantize", model, "-o", dir.resolve("q8.gguf").toString(), "--scheme", "Q8_0", "-q"},
                    new String[] {"quantize", model, "-o", dir.resolve("q4.gguf").toString(), "--scheme", "Q4_0", "-q"},
                    new String[] {"quantize", model, "-o", dir.resolve("nf4").toString(), "--scheme", "nf4", "--double-quant", "-q"});
            for (String[] c : commands) if (Main.run(c, sink, sink) != 0) failed++;
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
