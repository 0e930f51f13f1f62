package dev.lowbit.cli;

import dev.lowbit.formats.DType;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.validate.BenchFixture;
import dev.lowbit.validate.model.KvCache;
import dev.lowbit.validate.model.Transformer;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit bench", "  lowbit bench --weights F32,nf4 --ctx 256 --chunks 2 -t 2",
        "  lowbit bench --model llama82m-Q4_0.gguf --model llama82m-nf4 --repeat 3", "  lowbit bench --model llama82m-Q8_0.gguf --gen 128"},
        name = "bench", description = {"Prompt-processing speed (tokens/s) of the engine on a Llama-shaped 82M-parameter model with random weights, per weight dtype.",
                "Measured as llama-bench's pp test: prompts of --ctx tokens into an empty KV cache, logits of the last token only.",
                "With --gen N also generation, as llama-bench's tg test: N tokens decoded one at a time from an empty KV cache."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "D", description = "Where the fixtures live (created when missing; default: a temp folder).")
    Path dir;

    @Option(names = "--weights", split = ",", paramLabel = "W", defaultValue = "F32,F16,BF16,int8,nf4",
            description = "Stored dtypes (F32, F16, BF16) and quantize schemes of the F32 fixture (int8, int8-block, int4, nf4...); default ${DEFAULT-VALUE}.")
    List<String> weights;

    @Option(names = "--model", paramLabel = "MODEL", description = "Benchmark this model folder or .gguf file (repeatable) instead of the random-weight fixtures; --weights and --dir are then refused.")
    List<Path> models;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "Measure each model N times and print min/median/max (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "512", description = "Tokens per prompt (default ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "4", description = "Measured prompts of --ctx tokens, after warm-up prompts until the JIT compiler is idle (default ${DEFAULT-VALUE}).")
    int chunks;

    @Option(names = "--gen", paramLabel = "N", defaultValue = "0",
            description = "Also measure generation (llama-bench's tg test): N tokens decoded one at a time from an empty KV cache, each with its logits; tokens/s after warm-up rounds (default ${DEFAULT-VALUE}: off).")
    int gen;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        if (ctx < 2) throw new IllegalArgumentException("--ctx must be at least 2 tokens, not " + ctx);
        if (chunks < 1) throw new IllegalArgumentException("--chunks must be positive, not " + chunks);
        if (repeat < 1) throw new IllegalArgumentException("--repeat must be positive, not " + repeat);
        if (gen < 0) throw new IllegalArgumentException("--gen must be 0 (off) or a number of tokens, not " + gen);
        if (models != null && !models.isEmpty()) {
            if (dir != null || spec.commandLine().getParseResult().hasMatchedOption("--weights"))
                throw new IllegalArgumentException("--model benchmarks the given files: --weights and --dir would do nothing");
            for (Path m : models) if (!Files.exists(m)) throw new IllegalArgumentException(m + ": no such model file or folder");
        }
        for (String w : weights) {
            if (List.of("F32", "F16", "BF16").contains(w.toUpperCase(Locale.ROOT))) continue;
            try {
                Scheme.parse(w);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--weights: '" + w + "' is neither a stored dtype (F32, F16, BF16) nor a scheme (int8, int8-block, int4, int4-asym, nf4, fp4)");
            }
        }
        if (models != null && !models.isEmpty()) {
            out.printf(Locale.ROOT, "engine: %s, %d threads, ctx %d, %d chunks, %d repeats%n", Kernels.ops().getClass().getSimpleName(), Kernels.threads(), ctx, chunks, repeat);
            for (Path m : models) {
                try (Transformer t = Transformer.open(m)) {
                    int[] ids = new SplittableRandom(7).ints((long) Math.max(ctx * (chunks + 1), gen), 0, t.config().vocab()).toArray();
                    report(out, m.getFileName().toString(), measure(t, ids));
                    if (gen > 0) reportGen(out, m.getFileName().toString(), measureGen(t, ids));
                }
            }
            return 0;
        }
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("lowbit-bench");
        int[] ids = new SplittableRandom(7).ints((long) Math.max(ctx * (chunks + 1), gen), 0, BenchFixture.Shape.LLAMA_82M.vocab()).toArray();
        out.printf(Locale.ROOT, "engine: %s, %d threads, ctx %d, %d chunks%n", Kernels.ops().getClass().getSimpleName(), Kernels.threads(), ctx, chunks);
        for (String w : weights) {
            try (Transformer t = Transformer.open(fixture(root, w))) {
                report(out, w, measure(t, ids));
                if (gen > 0) reportGen(out, w, measureGen(t, ids));
            }
        }
        return 0;
    }

    /**
     * Prompt processing as llama-bench's pp test measures it: each chunk of ctx tokens is one prompt run into a cleared
     * KV cache, with logits for its last token only (llama_batch_get_one asks for no others). Warm-up prompts ({@link #warmUp}), then
     * --repeat measurements of --chunks prompts: tokens/s sorted ascending. (Perplexity's rate, with lm_head and the
     * log-softmax on every token, is what `lowbit perplexity` reports.)
     */
    private double[] measure(Transformer t, int[] ids) {
        KvCache kv = t.newCache(ctx);
        warmUp(t, kv, ids);
        double[] tps = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long start = System.nanoTime();
            for (int c = 1; c <= chunks; c++) prefill(t, kv, ids, c);
            tps[i] = (double) chunks * ctx / ((System.nanoTime() - start) / 1e9);
        }
        Arrays.sort(tps);
        return tps;
    }

    /**
     * Generation as llama-bench's tg test measures it: --gen tokens decoded one at a time into a cleared KV cache, each
     * step's logits computed (no sampling: the next token is the next id of the random stream, as llama-bench takes
     * random ones). Warm-up rounds until the JIT compiler is idle, as for prompts; then --repeat rounds.
     */
    private double[] measureGen(Transformer t, int[] ids) {
        KvCache kv = t.newCache(gen);
        untilCompiled(() -> decode(t, kv, ids));
        double[] tps = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long start = System.nanoTime();
            decode(t, kv, ids);
            tps[i] = gen / ((System.nanoTime() - start) / 1e9);
        }
        Arrays.sort(tps);
        return tps;
    }

    private void decode(Transformer t, KvCache kv, int[] ids) {
        kv.clear();
        for (int i = 0; i < gen; i++) t.forward(new int[] {ids[i]}, 1, kv);
    }

    private void reportGen(PrintWriter out, String name, double[] tps) {
        if (tps.length == 1) out.printf(Locale.ROOT, "%-10s %8.1f tokens/s generating (tg%d)%n", name, tps[0], gen);
        else out.printf(Locale.ROOT, "%-10s %8.1f tokens/s generating (tg%d) median (min %.1f, max %.1f)%n", name, tps[tps.length / 2], gen, tps[0], tps[tps.length - 1]);
    }

    /**
     * Warm-up prompts until the JIT compiler is idle: at least two, then until one spends under 2 % of its time
     * compiling, at most ten. One warm-up prompt was not enough: C2 was still compiling on one of the cores during the
     * next two or three (82M Q4_0 on 2 cores: 1.5 s interpreted, then 314 ms with 86 ms of compiling, then about 250).
     */
    private void warmUp(Transformer t, KvCache kv, int[] ids) {
        untilCompiled(() -> prefill(t, kv, ids, 0));
    }

    /** Runs round at least twice, then until a round spends under 2 % of its time in the JIT compiler, at most ten times. */
    private static void untilCompiled(Runnable round) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        for (int w = 0; w < 10; w++) {
            long c0 = timed ? jit.getTotalCompilationTime() : 0, t0 = System.nanoTime();
            round.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (w >= 1 && (timed ? jit.getTotalCompilationTime() - c0 < 0.02 * ms : w >= 2)) return;
        }
    }

    private void prefill(Transformer t, KvCache kv, int[] ids, int chunk) {
        kv.clear();
        t.forward(Arrays.copyOfRange(ids, chunk * ctx, (chunk + 1) * ctx), ctx, kv);
    }

    private void report(PrintWriter out, String name, double[] tps) {
        if (tps.length == 1) out.printf(Locale.ROOT, "%-10s %8.1f tokens/s%n", name, tps[0]);
        else out.printf(Locale.ROOT, "%-10s %8.1f tokens/s median (min %.1f, max %.1f)%n", name, tps[tps.length / 2], tps[0], tps[tps.length - 1]);
    }

    /** The fixture in a stored dtype, or the F32 fixture quantized with a scheme (lowbit layout). */
    private static Path fixture(Path root, String w) throws Exception {
        DType dt = DType.parse(w.toUpperCase(Locale.ROOT));
        Path m = root.resolve("llama82m-" + w.toLowerCase(Locale.ROOT));
        if (Files.isRegularFile(m.resolve("config.json"))) return m;
        if (dt != null) {
            Files.createDirectories(m);
            BenchFixture.write(m, BenchFixture.Shape.LLAMA_82M, dt);
        } else {
            Quantizer.run(fixture(root, "F32"), m, new Recipe(Scheme.parse(w), Layout.LOWBIT, 64, false, List.of(), List.of(), false, null), false, false, null);
        }
        return m;
    }
}
