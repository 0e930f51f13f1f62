package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

/** Checks shared by the fuzz tests. */
final class Fuzz {
    private Fuzz() {}

    /** The contract of a FormatException: one line, naming the file (or a file in the folder `file`). */
    static void checkMessage(FormatException e, Path file) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": ") || m.startsWith(file + "/"), m);
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
    }
}
