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


@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit validate MODEL MODEL-nf4 --text wiki.test.raw --report drift/", "  lowbit validate MODEL MODEL-nf4 --text wiki.test.raw --max-ppl-drift 1 --max-kld 0.01   (CI: exit 1 on failure)"},
        name = "validate", description = "Run a base and a candidate model over the same text and report the drift; gates for CI (exit 1 when one fails).")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE")
    Path base;

    @Parameters(index = "1", paramLabel = "CANDIDATE")
    Path candidate;

    @Mixin
    EvalInput input;

    @Mixin
    GateOptions gate;

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
        Validation v = Validation.run(base, candidate, ids, input.ctx, input.maxChunks, gate.gates(), bar::update);
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
