package dev.lowbit.cli;

import dev.lowbit.formats.Inspection;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.Convert;
import dev.lowbit.validate.Validation;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit demo", "  lowbit demo --dir /tmp/lowbit-demo --max-chunks 4"},
        name = "demo", description = "The whole pipeline on the embedded sample: NF4 with double quantization and INT8, validated against the original, with reports.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "D", description = "Where to write (default: a new temp folder); a previous demo's outputs there are replaced.")
    Path dir;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "256", description = "Tokens per chunk (default ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--max-chunks", paramLabel = "N", defaultValue = "16", description = "Chunks scored per model (default ${DEFAULT-VALUE}).")
    int maxChunks;

    @Spec
    CommandSpec spec;

    record Job(String name, Recipe recipe) {}

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        if (ctx < 2) throw new IllegalArgumentException("--ctx must be at least 2 tokens, not " + ctx);
        if (maxChunks < 1) throw new IllegalArgumentException("--max-chunks must be positive, not " + maxChunks);
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("lowbit-demo-");
        Path model = Samples.tinyLlama();
        int[] ids = Tokenizer.load(model).encode(Files.readString(Samples.evalTextHead()), false);
        out.printf("model %s (tiny Llama, BF16), text %s (%,d tokens), scoring %d chunks of %d%n%n", model, Samples.evalTextHead(), ids.length, maxChunks, ctx);
        List<Job> jobs = List.of(new Job("nf4-dq", new Recipe(Scheme.NF4, Layout.HF_BNB, 64, true, List.of(), List.of(), false, null)),
                new Job("int8", new Recipe(Scheme.INT8, Layout.HF_BNB, 64, false, List.of(), List.of(), false, null)));
        boolean ok = true;
        for (Job j : jobs) {
            Path target = root.resolve(j.name()), report = root.resolve(j.name() + "-report");
            replacePrevious(target, "config.json");
            replacePrevious(report, "report.json");
            Progress bar = Progress.start(j.name(), maxChunks, true);
            Convert.Result r;
            try (Cleanup _ = Cleanup.guard(target)) {
                r = Convert.run(model, target, null, j.recipe(), ids, ctx, maxChunks, new Validation.Gates(2.0, null, null), null, false, bar::update);
            } finally {
                bar.done();
            }
            Validation v = r.validation().withText(Samples.evalTextHead());
            v.write(report);
            var d = v.drift();
            long params = Inspection.of(model).parameters();
            out.printf(Locale.ROOT, "%-7s %s → %s  %.2f bits/weight (quantized weights), %.2f (whole file)%n", j.name(),
                    Units.bytes(r.quantized().bytesIn()), Units.bytes(r.quantized().bytesOut()), r.quantized().bitsPerWeight(), 8.0 * r.quantized().bytesOut() / params);
            out.printf(Locale.ROOT, "        ppl %.4f → %.4f (%+.3f%%)  mean KLD %.6f  same top-1 %.2f%%  %s (gate: ppl drift ≤ 2%%)%n", d.base().ppl(),
                    d.candidate().ppl(), d.deltaPplPercent(), d.kld().mean(), d.sameTop1Percent(), v.passed() ? "PASS" : "FAIL");
            out.printf("        artifact %s%n        report   %s%n", r.landed() ? target : "(not written: gate failed)", report.resolve("report.html"));
            ok &= v.passed();
        }
        out.printf("%nnext: lowbit inspect %s    lowbit validate %s %s --text %s%n", root.resolve("nf4-dq"), model, root.resolve("nf4-dq"), Samples.evalTextHead());
        return ok ? 0 : ValidateCommand.EXIT_GATE;
    }

    /** A previous demo's output (recognised by its marker file) is removed; anything else in the way is refused. */
    private static void replacePrevious(Path p, String marker) throws IOException {
        if (!Files.exists(p)) return;
        if (Files.isDirectory(p) && Files.isRegularFile(p.resolve(marker))) OutputDir.deleteTree(p);
        else if (!(Files.isDirectory(p) && !OutputDir.hasEntries(p)))
            throw new IllegalArgumentException(p + " exists and is not a previous demo output: choose another --dir");
    }
}
