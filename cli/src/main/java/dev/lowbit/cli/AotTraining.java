package dev.lowbit.cli;

import dev.lowbit.quantizers.format.LaneEncoders;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The training run the launcher records the ahead-of-time cache from (JDK 25, -XX:AOTCacheOutput): a few short
 * commands on the embedded sample, in one process, so that the classes and method profiles of perplexity, the GGUF
 * quantizers (llama.cpp's legacy and K types, and their lane encoders) and bitsandbytes' NF4 are in the cache, not only
 * those of one command. Output is discarded; the files go to a temp folder that is removed. Exits non-zero if a command fails.
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
            laneEncoders();
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    /**
     * The GGUF encoders' lanes, which a job uses from hundreds of millions of weights on (LaneEncoders) and so never on
     * the sample, and the K-quants' scale searches in lanes (Qkx2Lanes, used at every size, but on few rows of the
     * sample), each on a few hundred random rows: their method profiles then come from the cache. The launcher has C2
     * compile these methods at a twentieth of the usual call counts (bin/jdk.sh). C2 parses a vector
     * held across loop iterations with its declared type and compiles an operation on it from the call site's profile
     * alone; a profile still incomplete when the method compiles leaves it on allocated vectors, tens of times slower.
     */
    private static void laneEncoders() {
        LaneEncoders.forJob(LaneEncoders.MIN_WEIGHTS, LaneEncoders.MIN_Q6_K_WEIGHTS);
        int rows = 64, cols = 2048;
        float[] v = new float[rows * cols];
        Random r = new Random(1);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        for (String type : List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q6_K", "Q2_K", "Q3_K", "Q4_K", "Q5_K")) {
            WeightFormat f = WeightFormats.named(type);
            int rowBytes = Math.toIntExact(f.rowBytes(cols));
            byte[] out = new byte[rows * rowBytes];
            for (int row = 0; row < rows; row++) f.quantize(v, row * cols, cols, out, row * rowBytes);
        }
    }
}
