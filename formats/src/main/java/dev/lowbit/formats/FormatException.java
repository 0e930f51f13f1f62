package dev.lowbit.formats;

import java.nio.file.Path;

/** Bad input: the message is one line naming the file (and tensor, when there is one) and the problem. */
public final class FormatException extends RuntimeException {
    public FormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public FormatException(Path file, String tensor, String problem) {
        super(file + ": tensor '" + tensor + "': " + problem);
    }
}
