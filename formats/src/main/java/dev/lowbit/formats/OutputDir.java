package dev.lowbit.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** A model folder written in a temp folder beside its target and renamed into place only when complete. */
public final class OutputDir {
    private OutputDir() {}

    public interface Body {
        void write(Path tmp) throws IOException;
    }

    /** Refuses an existing non-empty target; on any failure the temp folder is removed and the target left as it was. */
    public static void write(Path out, Body body) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        if (Files.exists(abs) && (!Files.isDirectory(abs) || hasEntries(abs)))
            throw new FormatException(out, "output already exists and is not an empty folder");
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".tmp-");
        try {
            body.write(tmp);
            if (Files.isDirectory(abs)) Files.delete(abs);
            AtomicFiles.readableByAll(tmp);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** Tokenizer files, generation config and the like: every plain file but weights, index and config.json. */
    public static void copyOthers(Path model, Path tmp) throws IOException {
        try (Stream<Path> s = Files.list(model)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".safetensors") || n.endsWith(".safetensors.zst") || n.equals(Checkpoint.INDEX)
                        || n.equals("config.json") || n.equals(Manifest.FILE) || n.startsWith(".")) continue;
                Files.copy(f, tmp.resolve(n));
            }
        }
    }

    /** Whether a folder has anything in it. */
    public static boolean hasEntries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    /** Removes a folder and everything below it (nothing if it does not exist). */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
