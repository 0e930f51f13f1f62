package dev.lowbit.cli;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.Inspection;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.lora.LoraAdapter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "merge",
        description = "Merge PEFT LoRA adapters into a float base model (W + (α/r)·B·A in float32), tensor by tensor.",
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit merge base/ my-adapter/ -o merged/", "  lowbit merge base/ a1/ a2:0.5 -o merged/ --dtype f32",
                "  lowbit quantize base/ --lora my-adapter/ -o merged-nf4 --scheme nf4"})
final class MergeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE", description = "Float base model folder (not a quantized one).")
    Path base;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "ADAPTER[:WEIGHT]", description = "PEFT LoRA adapter folders, applied in order.")
    List<String> adapters = new ArrayList<>();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output folder (must not exist, or be empty).")
    Path out;

    @Option(names = "--dtype", paramLabel = "f32|f16|bf16", description = "Write every floating tensor in this dtype (default: each tensor's own, "
            + "so the merged update is rounded to the base's precision; f32 keeps PEFT's float32 merge exactly).")
    String dtype;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DType to = dtype == null ? null : switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "f16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype " + dtype + ": choose f32, f16 or bf16");
        };
        LoraOptions lo = new LoraOptions();
        lo.specs.addAll(adapters);
        List<LoraAdapter> loras = lo.adapters();
        Progress bar = Progress.start("merge", Inspection.of(base).bytes(), Progress.Unit.MIB, !json);
        Quantizer.Result r;
        try (Cleanup _ = Cleanup.guard(out)) {
            r = Quantizer.merge(base, out, loras, to, bar::update);
        } finally {
            bar.done();
        }
        var o = spec.commandLine().getOut();
        if (json) o.println(Json.pretty(r));
        else o.printf(Locale.ROOT, "merged %d adapter(s) into %s: %d tensors updated, %s → %s, %.2f s, written to %s%n", loras.size(), base,
                r.tensors().stream().filter(t -> t.action().startsWith("merged")).count(), Units.bytes(r.bytesIn()), Units.bytes(r.bytesOut()), r.seconds(), out);
        return 0;
    }
}
