package dev.lowbit.cli;

import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.Validation;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;


@Command(name = "validate", description = "Run a base and a candidate model over the same text and report the drift; gates for CI (exit 1 when one fails).")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE")
    Path base;

    @Parameters(index = "1", paramLabel = "CANDIDATE")
    Path candidate;

    @Mixin
    EvalInput input;

    @Mixin
    GateOptions gate;

    @Option(names = "--lora", paramLabel = "ADAPTER[:WEIGHT]", description = "Merge these PEFT LoRA adapters into CANDIDATE first (float32): "
            + "`validate BASE BASE --lora A` shows what the fine-tune changed.")
    java.util.List<String> lora = new java.util.ArrayList<>();

    @Option(names = "--report", paramLabel = "DIR", description = "Write report.json and report.md there.")
    Path report;

    @Option(names = "--json", description = "Print report.json's content instead of the summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    static final int EXIT_GATE = 1;

    @Override
    public Integer call() throws Exception {
        int[] ids = input.ids(base);
        Progress bar = Progress.start("validate", Perplexity.chunks(ids.length, input.ctx, input.maxChunks), !json);
        Path cand = candidate, merged = null;
        if (!lora.isEmpty()) {
            LoraOptions lo = new LoraOptions();
            lo.specs.addAll(lora);
            Path parent = java.nio.file.Files.createTempDirectory("lowbit-merge-");
            merged = parent.resolve("merged");
            dev.lowbit.quantizers.Quantizer.merge(candidate, merged, lo.adapters(), dev.lowbit.formats.DType.F32, null);
            cand = merged;
        }
        Validation v;
        try {
            v = Validation.run(base, cand, ids, input.ctx, input.maxChunks, gate.gates(), bar::update);
        } finally {
            if (merged != null) dev.lowbit.formats.OutputDir.deleteTree(merged.getParent());
        }
        bar.done();
        if (report != null) v.write(report);
        var out = spec.commandLine().getOut();
        out.print(json ? v.json() + "\n" : v.markdown());
        if (!v.passed()) {
            spec.commandLine().getErr().println("lowbit: gate failed: " + String.join("; ", v.failed()));
            return EXIT_GATE;
        }
        return 0;
    }
}
