package dev.lowbit.formats;

import java.nio.file.Path;

/** Bad input: the message is one line naming the file (and tensor, when there is one) and the problem. */
public final class FormatException extends RuntimeException {
    public FormatException(Path file, String problem) {
        super(oneLine(file + ": " + problem));
    }

    public FormatException(Path file, String tensor, String problem) {
        super(oneLine(file + ": tensor '" + tensor + "': " + problem));
    }

    /** Names and values quoted from a file may hold line breaks or terminal escapes: shown as \\uXXXX instead. */
    private static String oneLine(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean bad = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
            if (bad && sb == null) sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            if (sb != null) {
                if (bad) sb.append(String.format("\\u%04x", (int) c));
                else sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }
}
