package dev.lowbit.cli;

import dev.lowbit.formats.Manifest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit quantize MODEL -o OUT --scheme nf4 --compress zstd && lowbit verify OUT"},
        name = "verify", description = "Check a compressed model folder against its manifest.json (sha256 before and after compression).")
final class VerifyCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "A folder written with --compress zstd (has manifest.json).")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<String> problems = Manifest.verify(dir);
        for (String p : problems) spec.commandLine().getErr().println("lowbit: " + dir.resolve(p.substring(0, p.indexOf(':'))) + p.substring(p.indexOf(':')));
        if (problems.isEmpty()) spec.commandLine().getOut().println("ok: every file of " + dir.resolve(Manifest.FILE) + " matches");
        return problems.isEmpty() ? 0 : 1;
    }
}
