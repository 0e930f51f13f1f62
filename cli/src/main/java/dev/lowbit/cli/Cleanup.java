package dev.lowbit.cli;

import dev.lowbit.formats.OutputDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Ctrl-C (SIGINT, SIGTERM) while a command builds OUT: the hidden folder it builds in beside OUT
 * (".OUT.tmp-*", ".OUT.staging-*") is removed by a shutdown hook. Folders that were there before are left alone.
 */
final class Cleanup implements AutoCloseable {
    private final Path parent;
    private final String prefix;
    private final Set<Path> before;
    private final Thread hook;

    private Cleanup(Path out) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        parent = abs.getParent();
        prefix = "." + abs.getFileName() + ".";
        before = new HashSet<>(staging());
        hook = new Thread(this::removeNew, "lowbit-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Guards the staging folders of OUT until closed. */
    static Cleanup guard(Path out) throws IOException {
        return new Cleanup(out);
    }

    List<Path> staging() throws IOException {
        if (parent == null || !Files.isDirectory(parent)) return List.of();
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && (n.startsWith(prefix + "tmp-") || n.startsWith(prefix + "staging-"));
            }).toList();
        }
    }

    /** What the hook does: removes staging folders that appeared since guard(). */
    void removeNew() {
        try {
            for (Path p : staging()) if (!before.contains(p)) OutputDir.deleteTree(p);
        } catch (IOException | RuntimeException e) {
            System.err.println("lowbit: could not remove " + parent + "/" + prefix + "*: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down: the hook runs
        }
    }
}
