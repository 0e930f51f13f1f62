package dev.lowbit.cli;

import dev.lowbit.formats.DType;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.validate.BenchFixture;
import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", description = "Prompt-processing speed (tokens/s) of the engine on a Llama-shaped 82M-parameter model with random weights, per weight dtype.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "Where the fixtures live (created when missing; default: a temp folder).")
    Path dir;

    @Option(names = "--dtype", split = ",", defaultValue = "F32,F16,BF16", description = "Weight dtypes (default ${DEFAULT-VALUE}).")
    List<DType> dtypes;

    @Option(names = "--ctx", defaultValue = "512", description = "Tokens per chunk (default ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--chunks", defaultValue = "4", description = "Measured chunks after one warm-up chunk (default ${DEFAULT-VALUE}).")
    int chunks;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("lowbit-bench");
        int[] ids = new SplittableRandom(7).ints((long) ctx * (chunks + 1), 0, BenchFixture.Shape.LLAMA_82M.vocab()).toArray();
        out.printf(Locale.ROOT, "engine: %s, %d threads, ctx %d, %d chunks%n", Kernels.ops().getClass().getSimpleName(), Kernels.threads(), ctx, chunks);
        for (DType dt : dtypes) {
            Path m = root.resolve("llama82m-" + dt.name().toLowerCase(Locale.ROOT));
            if (!Files.isRegularFile(m.resolve("model.safetensors"))) {
                Files.createDirectories(m);
                BenchFixture.write(m, BenchFixture.Shape.LLAMA_82M, dt);
            }
            try (Transformer t = Transformer.open(m)) {
                Perplexity.run(t, ids, ctx, 1, null);
                Perplexity.Result r = Perplexity.run(t, java.util.Arrays.copyOfRange(ids, ctx, ids.length), ctx, chunks, null);
                out.printf(Locale.ROOT, "%-5s %8.1f tokens/s%n", dt, r.tokensPerSecond());
            }
        }
        return 0;
    }
}
