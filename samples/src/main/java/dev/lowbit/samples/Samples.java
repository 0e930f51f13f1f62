package dev.lowbit.samples;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.opentest4j.TestAbortedException;

/** Locates the embedded sample (samples/ in the repository) and the shared reference samples beside the repository. */
public final class Samples {
    private Samples() {}

    /** The repository root: the nearest folder above the working directory or this class's jar that holds samples/tiny-llama. */
    public static Path root() {
        for (Path start : candidates()) {
            for (Path p = start; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("samples/tiny-llama/config.json"))) return p;
            }
        }
        throw new IllegalStateException("cannot find the lowbit repository (samples/tiny-llama) above " + Path.of("").toAbsolutePath());
    }

    private static Path[] candidates() {
        Path cwd = Path.of("").toAbsolutePath();
        try {
            Path jar = Path.of(Samples.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return new Path[] {cwd, jar};
        } catch (URISyntaxException | RuntimeException e) {
            return new Path[] {cwd};
        }
    }

    /** The embedded tiny-llama model folder. */
    public static Path tinyLlama() {
        return root().resolve("samples/tiny-llama");
    }

    /** The embedded slice of the evaluation text. */
    public static Path evalTextHead() {
        return root().resolve("samples/eval_text_head.txt");
    }

    /** ../shared/samples (or $LOWBIT_SHARED_SAMPLES) when present. */
    public static Optional<Path> shared() {
        String env = System.getenv("LOWBIT_SHARED_SAMPLES");
        Path p = env != null ? Path.of(env) : root().resolveSibling("shared").resolve("samples");
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }

    /** One shared sample model folder, if the shared samples exist. */
    public static Optional<Path> shared(String model) {
        return shared().map(p -> p.resolve(model)).filter(Files::isDirectory);
    }

    public static final String SHARED_MISSING = "../shared/samples not found (set LOWBIT_SHARED_SAMPLES): skipping";

    /** Where the shared samples are expected: $LOWBIT_SHARED_SAMPLES, or ../shared/samples beside the repository. */
    public static Path sharedLocation() {
        String env = System.getenv("LOWBIT_SHARED_SAMPLES");
        return (env != null ? Path.of(env) : root().resolveSibling("shared").resolve("samples")).toAbsolutePath().normalize();
    }

    /** True when running under CI (the CI environment variable set to anything but "false" or "0"). */
    public static boolean ci() {
        String v = System.getenv("CI");
        return v != null && !v.isBlank() && !v.equalsIgnoreCase("false") && !v.equals("0");
    }

    /**
     * For tests: the shared sample file or folder at this path under ../shared/samples (e.g. "tiny-bloom",
     * "tiny-llama/reference/rope_refs.json"). When it is missing, the message names the missing folder or file; under
     * CI (see {@link #ci()}) that fails the test, so that a CI run without the reference data cannot pass; elsewhere the
     * test is skipped (aborted, as JUnit's assumptions do).
     */
    public static Path requireShared(String relative) {
        Path base = sharedLocation(), p = base.resolve(relative);
        if (Files.exists(p)) return p;
        Path missing = Files.isDirectory(base) ? p : base;
        String msg = "shared reference data missing: " + missing + " (../shared/samples"
                + (missing == base ? "" : "/" + relative) + "; set LOWBIT_SHARED_SAMPLES to relocate it)";
        if (ci()) throw new IllegalStateException(msg + ": required when CI is set");
        System.err.println("lowbit tests: " + msg + ": skipping");
        throw Skip.abort(msg + ": skipping");
    }

    /**
     * JUnit's abort, in a class of its own: the verifier of Samples then sees a RuntimeException only, so `lowbit demo`
     * (which uses Samples without JUnit on the class path) does not need opentest4j; tests load this class when they skip.
     */
    private static final class Skip {
        static RuntimeException abort(String msg) {
            return new TestAbortedException(msg);
        }
    }
}
