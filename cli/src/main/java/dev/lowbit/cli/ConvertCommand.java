package dev.lowbit.cli;

import dev.lowbit.validate.Convert;
import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", description = "Rewrite, quantize, validate and report in one command; the artifact lands in OUT only when the gates pass.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT")
    Path out;

    @Mixin
    RecipeOptions recipe;

    @Mixin
    RewriteOptions rewrite;

    @Mixin
    LoraOptions lora;

    @Option(names = "--validate", required = true, paramLabel = "TEXT", description = "UTF-8 text to validate on (tokenized without BOS).")
    Path text;

    @Option(names = "--ctx", defaultValue = "512")
    int ctx;

    @Option(names = "--max-chunks", defaultValue = "0")
    int maxChunks;

    @Mixin
    GateOptions gate;

    @Option(names = "--report", paramLabel = "DIR", description = "Where report.json and report.md go (default OUT-report beside OUT).")
    Path report;

    @Option(names = "--keep-on-fail", description = "Keep the artifact in OUT even when a gate fails.")
    boolean keepOnFail;

    @Option(names = "--json", description = "Print report.json's content instead of the summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int[] ids = Tokenizer.load(model).encode(Files.readString(text), false);
        Path reportDir = report != null ? report : out.resolveSibling(out.getFileName() + "-report");
        Progress bar = Progress.start("convert", Perplexity.chunks(ids.length, ctx, maxChunks), !json);
        Convert.Result r = Convert.run(model, out, rewrite.any() ? rewrite.options() : null, recipe.recipe(), ids, ctx, maxChunks,
                gate.gates(), reportDir, keepOnFail, bar::update, lora.adapters());
        bar.done();
        var o = spec.commandLine().getOut();
        if (json) o.println(r.validation().json());
        else o.printf(Locale.ROOT, "%s %s: %s → %s (%.2f bits/weight), ppl %.4f → %.4f (%+.3f%%), mean KLD %.6f, same top-1 %.2f%%; report in %s%n",
                r.landed() ? "converted" : "not converted", model, Units.bytes(r.quantized().bytesIn()), Units.bytes(r.quantized().bytesOut()),
                r.quantized().bitsPerWeight(), r.validation().drift().base().ppl(), r.validation().drift().candidate().ppl(),
                r.validation().drift().deltaPplPercent(), r.validation().drift().kld().mean(), r.validation().drift().sameTop1Percent(), reportDir);
        if (!r.validation().passed()) {
            spec.commandLine().getErr().println("lowbit: gate failed: " + String.join("; ", r.validation().failed())
                    + (r.landed() ? " (artifact kept in " + out + ")" : " (nothing written to " + out + ")"));
            return ValidateCommand.EXIT_GATE;
        }
        return 0;
    }
}
