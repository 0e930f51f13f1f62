package dev.lowbit.cli;

import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.Convert;
import dev.lowbit.validate.Validation;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", description = "The whole pipeline on the embedded sample: NF4 with double quantization and INT8, validated against the original, with reports.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "Where to write (default: a new temp folder).")
    Path dir;

    @Option(names = "--ctx", defaultValue = "256")
    int ctx;

    @Option(names = "--max-chunks", defaultValue = "16")
    int maxChunks;

    @Spec
    CommandSpec spec;

    record Job(String name, Recipe recipe) {}

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("lowbit-demo-");
        Path model = Samples.tinyLlama();
        int[] ids = Tokenizer.load(model).encode(Files.readString(Samples.evalTextHead()), false);
        out.printf("model %s (tiny Llama, BF16), text %s (%,d tokens), scoring %d chunks of %d%n%n", model, Samples.evalTextHead(), ids.length, maxChunks, ctx);
        List<Job> jobs = List.of(new Job("nf4-dq", new Recipe(Scheme.NF4, Layout.HF_BNB, 64, true, List.of(), List.of(), false, null)),
                new Job("int8", new Recipe(Scheme.INT8, Layout.HF_BNB, 64, false, List.of(), List.of(), false, null)));
        boolean ok = true;
        for (Job j : jobs) {
            Path target = root.resolve(j.name()), report = root.resolve(j.name() + "-report");
            Progress bar = Progress.start(j.name(), maxChunks, true);
            Convert.Result r = Convert.run(model, target, null, j.recipe(), ids, ctx, maxChunks, new Validation.Gates(2.0, null, null), report, false, bar::update);
            bar.done();
            var d = r.validation().drift();
            out.printf(Locale.ROOT, "%-7s %s → %s (%.2f bits/weight)  ppl %.4f → %.4f (%+.3f%%)  KLD %.6f  same top-1 %.2f%%  %s%n", j.name(),
                    Units.bytes(r.quantized().bytesIn()), Units.bytes(r.quantized().bytesOut()), r.quantized().bitsPerWeight(), d.base().ppl(),
                    d.candidate().ppl(), d.deltaPplPercent(), d.kld().mean(), d.sameTop1Percent(), r.validation().passed() ? "pass" : "FAIL");
            out.printf("        artifact %s%n        report   %s%n", r.landed() ? target : "(not written: gate failed)", report.resolve("report.md"));
            ok &= r.validation().passed();
        }
        return ok ? 0 : ValidateCommand.EXIT_GATE;
    }
}
