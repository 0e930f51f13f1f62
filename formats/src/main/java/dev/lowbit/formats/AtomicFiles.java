package dev.lowbit.formats;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes a file through a temp file in the same folder, renamed into place only on success. */
public final class AtomicFiles {
    private AtomicFiles() {}

    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** Temp files are created owner-only; a finished file gets the usual rw-r--r-- (rwxr-xr-x for folders). */
    public static void readableByAll(Path p) throws IOException {
        if (!p.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
    }

    public static void write(Path target, Body body) throws IOException {
        write(target, body, false);
    }

    /**
     * As {@link #write(Path, Body)}; in the background (large files: weights), the bytes go to the file from a thread
     * of their own while body goes on producing them.
     */
    public static void write(Path target, Body body, boolean background) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            if (background) {
                BackgroundOutputStream out = new BackgroundOutputStream(FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
                try {
                    body.write(out);
                } catch (IOException | RuntimeException | Error e) {
                    out.abandon();
                    throw e;
                }
                out.close();
            } else {
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                    body.write(out);
                }
            }
            readableByAll(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
