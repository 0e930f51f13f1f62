package dev.lowbit.cli;

import dev.lowbit.formats.FormatException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/** Entry point: `lowbit <command>`. Bad input exits 2 with one line naming the file and the problem. */
@Command(name = "lowbit", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Compress, convert and validate large language models.",
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit demo                          the whole pipeline on the embedded sample",
                "  lowbit inspect MODEL",
                "  lowbit quantize MODEL -o OUT --scheme nf4 --double-quant",
                "  lowbit validate MODEL OUT --text wiki.txt --max-ppl-drift 1 --report REPORT",
                "  lowbit generate OUT --prompt \"Once upon a time\"   continue a prompt",
                "  lowbit help quantize                 help of one command",
                "  source <(lowbit generate-completion) tab completion in bash or zsh",
                "",
                "Exit codes: 0 success, 1 a validation gate failed, 2 bad input or usage."})
public final class Main {
    public static final int EXIT_BAD_INPUT = 2;

    /** A command's name (its {@code @Command} name, which UsabilityTest checks) and class. */
    record Named(String name, Class<?> type) {}

    /**
     * The commands, in the order `lowbit --help` lists them, with their names written out: reading the names from the
     * annotations parsed every command class's annotations at each start (about 25 ms of a 0.25 s `lowbit inspect`).
     */
    static final List<Named> COMMANDS = List.of(new Named("inspect", InspectCommand.class), new Named("quantize", QuantizeCommand.class),
            new Named("calibrate", CalibrateCommand.class), new Named("rewrite", RewriteCommand.class), new Named("verify", VerifyCommand.class),
            new Named("perplexity", PerplexityCommand.class), new Named("generate", GenerateCommand.class), new Named("validate", ValidateCommand.class),
            new Named("convert", ConvertCommand.class), new Named("merge", MergeCommand.class), new Named("sweep", SweepCommand.class),
            new Named("demo", DemoCommand.class), new Named("bench", BenchCommand.class), new Named("help", HelpCommand.class),
            new Named("generate-completion", AutoComplete.GenerateCompletion.class));

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** -q: only results and errors; -v: also stack traces of errors. */
    static volatile boolean quiet, verbose;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", scope = ScopeType.INHERIT,
            description = "Worker threads for quantizing and inference (default: all cores, ${sys:lowbit.cores}).")
    void threads(int n) {
        if (n < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, not " + n);
        System.setProperty("lowbit.threads", Integer.toString(n));
    }

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT, description = "No progress bar, no warnings: results and errors only.")
    void quiet(boolean q) {
        quiet = q;
    }

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "More detail: stack traces of errors.")
    void verbose(boolean v) {
        verbose = v;
    }

    public static void main(String[] args) {
        Charset cs = System.out.charset();
        PrintWriter out = Text.writer(System.out, cs), err = Text.writer(System.err, System.err.charset());
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** picocli's built-in converters left unregistered (regexes of class names): see {@link #commandLine(String)}. */
    static final String CONVERTERS_EXCLUDED = "java\\.time\\..*,java\\.sql\\..*";

    /** The configured command line with every command (help, completion, suggestions, tests). */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command line with only the named command when {@code only} is not null. picocli reflects over every option
     * of every command it is given, about a third of a second at start-up for all of them; a run of one command needs
     * only that one.
     */
    static CommandLine commandLine(String only) {
        System.setProperty("lowbit.cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        // picocli registers its java.time and java.sql converters by reflection, loading and initialising 71 java.time
        // classes at every start (inspect on C1 alone, min of 20: 146 -> 143 ms). No option here takes such a type
        // (UsabilityTest checks).
        if (System.getProperty("picocli.converters.excludes") == null)
            System.setProperty("picocli.converters.excludes", CONVERTERS_EXCLUDED);
        CommandLine cl = new CommandLine(new Main());
        for (Named c : COMMANDS) if (only == null || only.equals(c.name())) cl.addSubcommand(c.name(), c.type());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setAbbreviatedOptionsAllowed(false);
        CommandLine completion = cl.getSubcommands().get("generate-completion");
        if (completion != null) completion.getCommandSpec().usageMessage().hidden(false)
                .description("Print a bash/zsh completion script: source <(lowbit generate-completion)");
        return cl;
    }

    /**
     * The command a command line runs, when it names one exactly after lowbit's own options (-t N, -q, --verbose);
     * null for anything else (help, completion, version, a typo), which needs every command.
     */
    static String commandOf(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-t") || a.equals("--threads")) i++;
            else if (a.startsWith("--threads=") || a.matches("-t\\d+") || a.equals("-q") || a.equals("--quiet") || a.equals("--verbose")) continue;
            else if (a.startsWith("-") || a.equals("help") || a.equals("generate-completion")) return null;
            else return COMMANDS.stream().map(Named::name).filter(a::equals).findFirst().orElse(null);
        }
        return null;
    }

    /** Runs a command line with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        quiet = false;
        verbose = false;
        CommandLine cl = commandLine(commandOf(args));
        cl.setOut(out).setErr(err);
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            // A mistyped option (--schem) is the cause of the "missing --scheme" that picocli reports first: name it.
            if (!(e instanceof UnmatchedArgumentException) && !c.getUnmatchedArguments().isEmpty())
                e = new UnmatchedArgumentException(c, c.getUnmatchedArguments());
            boolean unknownCommand = e instanceof UnmatchedArgumentException u && !c.getSubcommands().isEmpty() && !u.getUnmatched().isEmpty()
                    && !u.getUnmatched().getFirst().startsWith("-");
            c.getErr().println("lowbit: " + (unknownCommand ? "unknown command '" + ((UnmatchedArgumentException) e).getUnmatched().getFirst() + "'" : e.getMessage()));
            List<String> near = e instanceof UnmatchedArgumentException u ? Suggest.forUnmatched(c, u.getUnmatched()) : List.of();
            if (!near.isEmpty()) c.getErr().println("Did you mean: " + String.join(" or ", near) + "?");
            String name = c.getCommandSpec().qualifiedName(" ");
            c.getErr().println("Try '" + name + " --help' for usage and examples.");
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("lowbit: " + oneLine(e));
            if (verbose) e.printStackTrace(cmd.getErr());
            return EXIT_BAD_INPUT;
        });
        return cl.execute(args);
    }

    /** One line saying what is wrong, for any exception. */
    static String oneLine(Throwable e) {
        if (e instanceof FormatException) return e.getMessage();
        if (e instanceof OutOfMemoryError) return "out of memory: " + e.getMessage() + " (give the JVM more with LOWBIT_JAVA_OPTS=-Xmx...)";
        if (e instanceof NoSuchFileException x) return x.getFile() + ": no such file or folder";
        if (e instanceof AccessDeniedException x) return x.getFile() + ": permission denied";
        if (e instanceof FileAlreadyExistsException x) return x.getFile() + ": already exists";
        if (e instanceof NotDirectoryException x) return x.getFile() + ": not a folder";
        if (e instanceof CharacterCodingException) return "input is not UTF-8 text";
        if (e instanceof UncheckedIOException u && u.getCause() != null) return oneLine(u.getCause());
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof FileSystemException x && x.getReason() != null && m.equals(x.getFile()))
            m = x.getFile() + ": " + x.getReason();
        if (e instanceof ArithmeticException || e instanceof NullPointerException || e instanceof IndexOutOfBoundsException)
            m = "internal error (" + e.getClass().getSimpleName() + ": " + m + "); please report it with --verbose output";
        return m.lines().findFirst().orElse(m);
    }
}
