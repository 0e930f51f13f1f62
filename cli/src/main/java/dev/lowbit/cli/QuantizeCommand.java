package dev.lowbit.cli;

import dev.lowbit.quantizers.QuantError;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.TensorReport;
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

@Command(name = "quantize", description = "Quantize a model folder into a new one (FP16, BF16, INT8, INT4, NF4, FP4).")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Input model folder.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output folder (must not exist, or be empty).")
    Path out;

    @Mixin
    RecipeOptions recipeOptions;

    @Mixin
    LoraOptions lora;

    @Option(names = "--compress", description = "zstd: write .safetensors.zst shards and manifest.json (sha256 before and after).")
    String compress;

    @Option(names = "--dry-run", description = "Print the plan (tensor, action, bytes before/after) and write nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Recipe recipe = recipeOptions.recipe();
        long total = dev.lowbit.formats.Inspection.of(model).bytes();
        Progress bar = Progress.start("quantize", total, !json && !dryRun);
        if (compress != null && !compress.equals("zstd")) throw new IllegalArgumentException("--compress takes zstd");
        Quantizer.Result r = Quantizer.run(model, out, recipe, dryRun, compress != null, bar::update, lora.adapters());
        bar.done();
        var o = spec.commandLine().getOut();
        if (json) {
            o.println(Json.pretty(r));
            return 0;
        }
        if (dryRun) {
            int w = r.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(6);
            o.printf("%-" + w + "s  %-24s %-14s %12s %12s%n", "tensor", "action", "shape", "bytes", "after");
            for (TensorReport t : r.tensors())
                o.printf(Locale.ROOT, "%-" + w + "s  %-24s %-14s %,12d %,12d%n", t.name(), t.action(), Arrays.toString(t.shape()), t.bytesIn(), t.bytesOut());
        } else {
            int w = r.tensors().stream().filter(t -> t.error() != null).mapToInt(t -> t.name().length()).max().orElse(6);
            o.printf("%-" + w + "s  %10s %10s %8s %9s%n", "tensor", "rmse", "max|err|", "snr dB", "rel err");
            for (TensorReport t : r.tensors()) {
                QuantError e = t.error();
                if (e != null) o.printf(Locale.ROOT, "%-" + w + "s  %10.3g %10.3g %8.2f %9.5f%n", t.name(), e.rmse(), e.maxAbs(), e.snrDb(), e.relFrobenius());
            }
        }
        o.printf(Locale.ROOT, "%s %s → %s (%.1f%%), %.2f bits/weight over %,d quantized weights, %.2f s, %.2f GB/s%s%n",
                dryRun ? "plan:" : "done:", Units.bytes(r.bytesIn()), Units.bytes(r.bytesOut()), 100.0 * r.bytesOut() / r.bytesIn(),
                r.bitsPerWeight(), r.quantizedParams(), r.seconds(), r.gbPerSecond(), dryRun ? "" : ", written to " + out);
        return 0;
    }
}
