package dev.lowbit.cli;

import dev.lowbit.formats.ModelConfig;
import dev.lowbit.quantizers.Rewriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit rewrite MODEL -o MODEL-4k --rope-scaling yarn --factor 4", "  lowbit rewrite MODEL -o MODEL-gguf-order --rope-layout interleaved", "  lowbit rewrite BLOOM -o BLOOM-2x --alibi-slope-scale 0.5"},
        name = "rewrite", description = "Rewrite positional encodings: RoPE q/k layout, RoPE context extension, ALiBi slope scale.")
final class RewriteCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Model folder (config.json, safetensors).")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output folder (must not exist, or be empty).")
    Path out;

    @Mixin
    RewriteOptions rewrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var warnings = rewrite.check(model);
        if (!rewrite.any())
            throw new IllegalArgumentException("nothing to rewrite: give --rope-layout, --rope-scaling (with --factor) or --alibi-slope-scale");
        Warnings.print(spec.commandLine().getErr(), warnings);
        try (Cleanup _ = Cleanup.guard(out)) {
            Rewriter.run(model, out, rewrite.options());
        }
        var cfg = ModelConfig.read(out);
        spec.commandLine().getOut().println("done: written to " + out + (rewrite.ropeScaling == null ? ""
                : " (rope " + cfg.rope().type() + " x" + Units.plain(rewrite.factor) + ", max_position_embeddings " + cfg.maxPositions() + ")"));
        return 0;
    }
}
