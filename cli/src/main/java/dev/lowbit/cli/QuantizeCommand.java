package dev.lowbit.cli;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.Inspection;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.QuantError;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.quantizers.TensorReport;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.validate.Convert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit quantize MODEL -o MODEL-nf4 --scheme nf4 --double-quant", "  lowbit quantize MODEL -o model-Q4_K_M.gguf --scheme Q4_K_M", "  lowbit quantize MODEL -o M-int4 --scheme int4 --block 128 --keep \"*down_proj*\"", "  lowbit quantize MODEL -o X --scheme int8 --dry-run", "  lowbit quantize MODEL -o M-nf4 --scheme nf4 --calibrate calib_text.txt", "  lowbit quantize MODEL -o m-IQ4_NL.gguf --scheme IQ4_NL --imatrix imatrix.gguf", "  lowbit quantize MODEL -o m-IQ4_XS.gguf --scheme IQ4_XS --gptq \\", "      --calibrate calib_text.txt"},
        name = "quantize", description = "Quantize a model folder into a new one (FP16, BF16, INT8, INT4, NF4, FP4), or into a GGUF file (llama.cpp's types and recipes).")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Input model folder.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output folder (must not exist, or be empty).")
    Path out;

    @Mixin
    RecipeOptions recipeOptions;

    @Mixin
    LoraOptions lora;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    GptqOptions gptq;

    @Option(names = "--compress", paramLabel = "zstd", description = "zstd: write .safetensors.zst shards and manifest.json (sha256 before and after).")
    String compress;

    @Option(names = "--dry-run", description = "Print the plan (tensor, action, bytes before/after) and write nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Option(names = "--format", description = "safetensors (a model folder, the default) or gguf (one file, as llama.cpp's converter and "
            + "llama-quantize make it; the default when OUT ends in .gguf).")
    String format;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (compress != null && !compress.equalsIgnoreCase("zstd")) throw new IllegalArgumentException("--compress takes zstd, not '" + compress + "'");
        if (format != null && !format.equalsIgnoreCase("gguf") && !format.equalsIgnoreCase("safetensors"))
            throw new IllegalArgumentException("--format takes safetensors or gguf, not '" + format + "'");
        if (format != null ? format.equalsIgnoreCase("gguf") : out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))
        {
            if (lora.specs.isEmpty() || dryRun) {
                lora.adapters(); // a dry run still reads (or refuses) the adapters; the plan is the base's
                return GgufOutput.run(model, out, recipeOptions, compress, dryRun, json, spec, calibration, gptq);
            }
            return ggufWithLora();
        }
        Recipe recipe = recipeOptions.recipe();
        RecipeChecks.checkTensors(model, recipe);
        gptq.options(); // refuses --gptq-damp without --gptq
        if (gptq.gptq && recipe.scheme() == Scheme.INT8 && recipe.layout() == Layout.HF_BNB)
            throw new IllegalArgumentException("--gptq: bitsandbytes' int8 rows are not a block format GPTQ can encode (use int8-block, nf4, fp4 or int4)");
        if (gptq.gptq && recipe.scheme().isHalf())
            throw new IllegalArgumentException("--gptq: scheme " + recipe.scheme().cliName() + " does not quantize (use a block format: int8-block, int4, nf4, fp4, or a GGUF type)");
        var encoder = dryRun || !gptq.gptq ? null : gptq.encoder(calibration.forGptq(model, !json));
        var weighting = dryRun || gptq.gptq ? null : calibration.forScheme(model, recipe.scheme(), !json);
        var inspection = Inspection.of(model);
        long total = inspection.bytes();
        Progress bar = Progress.start("quantize", total, Progress.Unit.MIB, !json && !dryRun);
        Quantizer.Result r;
        try (Cleanup _ = Cleanup.guard(out)) {
            r = Quantizer.run(model, out, recipe, dryRun, compress != null, bar::update, lora.adapters(),
                    weighting == null ? Weighting.NONE : weighting, encoder);
        } finally {
            bar.done();
        }
        var o = spec.commandLine().getOut();
        if (json) {
            o.println(Json.pretty(r));
            return 0;
        }
        if (dryRun) {
            int w = Math.max(6, r.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(6));
            int wa = Math.max(6, r.tensors().stream().mapToInt(t -> t.action().length()).max().orElse(6));
            int ws = Math.max(5, r.tensors().stream().mapToInt(t -> Arrays.toString(t.shape()).length()).max().orElse(5));
            o.printf("%-" + w + "s  %-" + wa + "s  %-" + ws + "s %12s %12s%n", "tensor", "action", "shape", "bytes", "after");
            for (TensorReport t : r.tensors())
                o.printf(Locale.ROOT, "%-" + w + "s  %-" + wa + "s  %-" + ws + "s %,12d %,12d%n", t.name(), t.action(), Arrays.toString(t.shape()), t.bytesIn(), t.bytesOut());
        } else if (!Main.quiet) {
            int w = Math.max(6, r.tensors().stream().filter(t -> t.error() != null).mapToInt(t -> t.name().length()).max().orElse(6));
            o.printf("%-" + w + "s  %10s %10s %8s %9s%n", "tensor", "rmse", "max|err|", "snr dB", "rel err");
            for (TensorReport t : r.tensors()) {
                QuantError e = t.error();
                if (e != null) o.printf(Locale.ROOT, "%-" + w + "s  %10.3g %10.3g %8s %9.5f%n", t.name(), e.rmse(), e.maxAbs(),
                        Double.isInfinite(e.snrDb()) ? "exact" : String.format(Locale.ROOT, "%.2f", e.snrDb()), e.relFrobenius());
            }
        }
        o.printf(Locale.ROOT, "%s %s → %s (%.1f%%): %.2f bits/weight over the %,d quantized weights, %.2f bits/weight for the whole file (%,d parameters)%s%n",
                dryRun ? "plan:" : "done:", Units.bytes(r.bytesIn()), Units.bytes(r.bytesOut()), 100.0 * r.bytesOut() / r.bytesIn(),
                r.bitsPerWeight(), r.quantizedParams(), 8.0 * r.bytesOut() / Math.max(1, inspection.parameters()), inspection.parameters(),
                dryRun ? "" : String.format(Locale.ROOT, "; %.2f s, %s/s; written to %s", r.seconds(), Units.rate(r.bytesIn(), r.seconds()), out));
        return 0;
    }

    /**
     * GGUF output with --lora: llama.cpp's converter rewrites whole tensors (Q/K row order, merged experts), so the
     * float32 merge is written to a staging folder beside OUT first (streamed tensor by tensor, removed afterwards,
     * also on Ctrl-C), then converted and quantized from there; calibration runs on the merged model.
     */
    private int ggufWithLora() throws Exception {
        GgufOutput.fileType(recipeOptions, compress); // refusals before the merge
        var adapters = lora.adapters();
        Path abs = out.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        try (Cleanup _ = Cleanup.guard(out)) {
            Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".staging-");
            try {
                Path merged = Convert.mergedFolder(model, staging);
                Progress bar = Progress.start("merge", Inspection.of(model).bytes(), Progress.Unit.MIB, !json);
                try {
                    Quantizer.merge(model, merged, adapters, DType.F32, bar::update);
                } finally {
                    bar.done();
                }
                return GgufOutput.run(merged, out, recipeOptions, compress, false, json, spec, calibration, gptq);
            } finally {
                OutputDir.deleteTree(staging);
            }
        }
    }
}
