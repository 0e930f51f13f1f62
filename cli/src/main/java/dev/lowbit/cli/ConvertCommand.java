package dev.lowbit.cli;

import dev.lowbit.formats.Inspection;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.validate.Convert;
import dev.lowbit.validate.Perplexity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {
        "  lowbit convert MODEL -o MODEL-nf4 --scheme nf4 --double-quant \\", "      --text wiki.test.raw --max-ppl-drift 1",
        "  lowbit convert MODEL -o MODEL-yarn-int8 --scheme int8 --rope-scaling yarn \\", "      --factor 2 --text eval.txt --ctx 1024"},
        name = "convert", description = "Rewrite, quantize, validate and report in one command; the artifact lands in OUT only when the gates pass.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Model folder (config.json, tokenizer.json, safetensors).")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output folder (must not exist, or be empty); written only when the gates pass.")
    Path out;

    @Mixin
    RecipeOptions recipe;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    RewriteOptions rewrite;

    @Mixin
    LoraOptions lora;

    @Mixin
    EvalInput input;

    @Option(names = "--compress", paramLabel = "zstd", description = "zstd: write .safetensors.zst shards and manifest.json (sha256 before and after).")
    String compress;

    @Option(names = "--dry-run", description = "Check the options and print the quantize plan; quantize, validate and write nothing.")
    boolean dryRun;

    @Mixin
    GateOptions gate;

    @Mixin
    ContinuationOptions continuations;

    @Option(names = "--report", paramLabel = "DIR", description = "Folder for report.json, report.md, report.html and tokens.arrow (default: OUT-report beside OUT).")
    Path report;

    @Option(names = "--keep-on-fail", description = "Keep the artifact in OUT even when a gate fails.")
    boolean keepOnFail;

    @Option(names = "--json", description = "Print report.json's content instead of the summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) return gguf();
        input.check();
        if (compress != null && !compress.equalsIgnoreCase("zstd")) throw new IllegalArgumentException("--compress takes zstd, not '" + compress + "'");
        var recipe = this.recipe.recipe();
        var err = spec.commandLine().getErr();
        var warnings = new ArrayList<>(rewrite.check(model));
        RecipeChecks.checkTensors(model, recipe);
        warnings.addAll(Checks.context(model, input.ctx));
        Warnings.print(err, warnings);
        Path reportDir = report != null ? report : ValidateCommand.defaultReport(out);
        if (Files.exists(reportDir) && !Files.isDirectory(reportDir))
            throw new IllegalArgumentException("--report " + reportDir + ": exists and is not a folder");
        var o = spec.commandLine().getOut();
        int[] ids = input.ids(model);
        int chunks = Perplexity.chunks(ids.length, input.ctx, input.maxChunks);
        if (chunks == 0) throw new IllegalArgumentException(input.file() + ": " + ids.length + " tokens are fewer than one chunk of --ctx " + input.ctx);
        if (dryRun) {
            var q = Quantizer.run(model, out, recipe, true, compress != null, null);
            o.printf(Locale.ROOT, "plan: %s → %s, %.2f bits/weight over the %,d quantized weights; validate on %,d tokens (%d chunks of %d) of %s; "
                            + "report to %s; nothing written (--dry-run)%n", Units.bytes(q.bytesIn()), Units.bytes(q.bytesOut()), q.bitsPerWeight(),
                    q.quantizedParams(), (long) chunks * input.ctx, chunks, input.ctx, input.file(), reportDir);
            return 0;
        }
        var weighting = calibration.forScheme(model, recipe.scheme(), !json);
        Progress bar = Progress.start("convert", chunks, !json);
        Convert.Result r;
        try (Cleanup _ = Cleanup.guard(out)) {
            r = Convert.run(model, out, rewrite.any() ? rewrite.options() : null, recipe, compress != null, ids, input.ctx, input.maxChunks,
                    gate.gates(), null, keepOnFail, bar::update, lora.adapters(), weighting, continuations.request(input, model));
        } finally {
            bar.done();
        }
        var v = r.validation().withText(input.file());
        v.write(reportDir);
        long params = Inspection.of(model).parameters();
        if (json) o.println(v.json());
        else o.printf(Locale.ROOT, "%s %s → %s: %s → %s, %.2f bits/weight over the quantized weights, %.2f for the whole file%n%s",
                r.landed() ? "converted" : "not converted", model, out, Units.bytes(r.quantized().bytesIn()), Units.bytes(r.quantized().bytesOut()),
                r.quantized().bitsPerWeight(), 8.0 * r.quantized().bytesOut() / Math.max(1, params), ValidateCommand.summary(v, reportDir));
        if (!v.passed()) {
            err.println("lowbit: gate failed: " + String.join("; ", v.failed())
                    + (r.landed() ? " (artifact kept in " + out + ")" : " (nothing written to " + out + ")"));
            return ValidateCommand.EXIT_GATE;
        }
        return 0;
    }

    /** convert MODEL -o x.gguf --scheme TYPE: llama.cpp's file type, validated by running the GGUF file itself. */
    private int gguf() throws Exception {
        input.check();
        List<String> wrong = new ArrayList<>(recipe.givenButNotForGguf());
        if (compress != null) wrong.add("--compress");
        if (dryRun) wrong.add("--dry-run (use quantize -o x.gguf --dry-run)");
        if (!wrong.isEmpty()) throw new IllegalArgumentException(String.join(", ", wrong) + ": not for GGUF output (llama.cpp's recipes decide every tensor's type)");
        var type = GgufFileType.parse(recipe.scheme);
        var err = spec.commandLine().getErr();
        var warnings = new ArrayList<>(rewrite.check(model));
        warnings.addAll(Checks.context(model, input.ctx));
        Warnings.print(err, warnings);
        Path reportDir = report != null ? report : ValidateCommand.defaultReport(out);
        int[] ids = input.ids(model);
        int chunks = Perplexity.chunks(ids.length, input.ctx, input.maxChunks);
        if (chunks == 0) throw new IllegalArgumentException(input.file() + ": " + ids.length + " tokens are fewer than one chunk of --ctx " + input.ctx);
        var weighting = calibration.forGguf(model, type, !json);
        Progress bar = Progress.start("convert", chunks, !json);
        Convert.GgufResult r;
        try {
            r = Convert.runGguf(model, out, rewrite.any() ? rewrite.options() : null, type, ids, input.ctx, input.maxChunks, gate.gates(), keepOnFail,
                    bar::update, lora.adapters(), weighting, continuations.request(input, model));
        } finally {
            bar.done();
        }
        var v = r.validation().withText(input.file());
        v.write(reportDir);
        var o = spec.commandLine().getOut();
        if (json) o.println(v.json());
        else o.printf(Locale.ROOT, "%s %s → %s: GGUF %s, %s, %.2f bits/weight%n%s", r.landed() ? "converted" : "not converted", model, out,
                r.gguf().fileType(), Units.bytes(r.gguf().fileBytes()), r.gguf().bitsPerWeight(), ValidateCommand.summary(v, reportDir));
        if (!v.passed()) {
            err.println("lowbit: gate failed: " + String.join("; ", v.failed()) + (r.landed() ? " (artifact kept in " + out + ")" : " (nothing written to " + out + ")"));
            return ValidateCommand.EXIT_GATE;
        }
        return 0;
    }
}
