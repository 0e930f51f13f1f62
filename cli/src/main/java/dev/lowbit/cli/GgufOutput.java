package dev.lowbit.cli;

import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.gguf.GgufExport;
import dev.lowbit.quantizers.gguf.GgufFileType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;

/** `quantize … -o x.gguf`: the GGUF file llama.cpp's converter (float types) or llama-quantize (the others) makes. */
final class GgufOutput {
    private GgufOutput() {}

    /** The GGUF file type --scheme names; options that mean nothing for GGUF output are refused. */
    static GgufFileType fileType(RecipeOptions recipe, String compress) {
        List<String> refused = new ArrayList<>(recipe.givenButNotForGguf());
        if (compress != null) refused.add("--compress");
        if (!refused.isEmpty())
            throw new IllegalArgumentException(String.join(", ", refused) + (refused.size() == 1 ? " means" : " mean")
                    + " nothing for GGUF output (its tensor types come from llama.cpp's recipe for --scheme)");
        return GgufFileType.parse(recipe.scheme.equalsIgnoreCase("fp16") ? "F16" : recipe.scheme.equalsIgnoreCase("fp32") ? "F32" : recipe.scheme);
    }

    static int run(Path model, Path out, RecipeOptions recipe, String compress, boolean dryRun, boolean json, CommandSpec spec,
            CalibrationOptions calibration, GptqOptions gptq) throws Exception {
        GgufFileType ft = fileType(recipe, compress);
        PrintWriter o = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        GgufExport.Result plan = GgufExport.run(model, out, ft, true, null);
        GgufExport.Result r = plan;
        if (!dryRun) {
            long tensorBytes = plan.tensors().stream().mapToLong(GgufExport.TensorPlan::bytes).sum();
            gptq.options(); // refuses --gptq-damp without --gptq
            var encoder = gptq.gptq ? gptq.encoder(calibration.forGptq(model, !json)) : null;
            var weighting = gptq.gptq ? Weighting.NONE : calibration.forGguf(model, ft, !json);
            Progress bar = Progress.start("gguf " + ft, tensorBytes, !json);
            r = GgufExport.run(model, out, ft, false, bar::update, weighting, encoder);
            bar.done();
        }
        if (json) {
            o.println(Json.pretty(r));
            return 0;
        }
        Warnings.print(err, r.warnings());
        if (dryRun) {
            int w = r.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(6);
            o.printf("%-" + w + "s  %-7s %-18s %12s%n", "tensor", "type", "shape", "bytes");
            for (GgufExport.TensorPlan t : r.tensors())
                o.printf(Locale.ROOT, "%-" + w + "s  %-7s %-18s %,12d%n", t.name(), t.type(), Arrays.toString(t.ne()), t.bytes());
        }
        o.printf(Locale.ROOT, "%s GGUF %s (general.file_type %d, %s): %d tensors, %s file (%,d bytes), %.2f bits/weight over %,d weights%s%n",
                dryRun ? "plan:" : "done:", ft, ft.id, r.arch(), r.tensors().size(), Units.bytes(r.fileBytes()), r.fileBytes(), r.bitsPerWeight(), r.params(),
                dryRun ? "" : String.format(Locale.ROOT, ", %.2f s, written to %s", r.seconds(), out));
        return 0;
    }
}
