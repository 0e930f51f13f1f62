package dev.lowbit.cli;

import dev.lowbit.formats.FormatException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: `lowbit <command>`. Bad input exits 2 with one line naming the file and the problem. */
@Command(name = "lowbit", mixinStandardHelpOptions = true, version = "lowbit 0.1.0",
        description = "Compress, convert and validate large language models.",
        subcommands = {InspectCommand.class, QuantizeCommand.class, RewriteCommand.class, VerifyCommand.class, PerplexityCommand.class, ValidateCommand.class, ConvertCommand.class, MergeCommand.class, DemoCommand.class, BenchCommand.class})
public final class Main {
    public static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true), err = new PrintWriter(System.err, true);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs a command line with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out).setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("lowbit: " + oneLine(e));
            return EXIT_BAD_INPUT;
        });
        return cl.execute(args);
    }

    static String oneLine(Throwable e) {
        if (e instanceof FormatException) return e.getMessage();
        if (e instanceof OutOfMemoryError) return "out of memory: " + e.getMessage();
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
