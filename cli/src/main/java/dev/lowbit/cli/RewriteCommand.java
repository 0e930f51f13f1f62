package dev.lowbit.cli;

import dev.lowbit.quantizers.Rewriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "rewrite", description = "Rewrite positional encodings: RoPE q/k layout, RoPE context extension, ALiBi slope scale.")
final class RewriteCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT")
    Path out;

    @Mixin
    RewriteOptions rewrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Rewriter.run(model, out, rewrite.options());
        spec.commandLine().getOut().println("done: written to " + out);
        return 0;
    }
}
