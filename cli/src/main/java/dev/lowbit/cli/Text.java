package dev.lowbit.cli;

import java.io.FilterWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Terminal text: when the terminal's charset cannot show ±, →, Δ… (LANG=C), they are written as plain ASCII. */
final class Text {
    private Text() {}

    static final Map<Character, String> ASCII = Map.ofEntries(Map.entry('±', "+/-"), Map.entry('→', "->"), Map.entry('Δ', "d"),
            Map.entry('−', "-"), Map.entry('…', "..."), Map.entry('‖', "||"), Map.entry('×', "x"), Map.entry('≥', ">="),
            Map.entry('≤', "<="), Map.entry('·', "*"), Map.entry('—', "-"), Map.entry('–', "-"), Map.entry('µ', "u"),
            Map.entry('█', "#"), Map.entry('░', "."), Map.entry('✓', "ok"), Map.entry('✗', "x"), Map.entry('“', "\""),
            Map.entry('”', "\""), Map.entry('’', "'"));

    /** A writer over the stream in its charset, transliterating what the charset cannot encode. */
    static PrintWriter writer(OutputStream s, Charset cs) {
        Writer w = new OutputStreamWriter(s, cs);
        return new PrintWriter(cs.newEncoder().canEncode("±→Δ") ? w : ascii(w, cs), true);
    }

    static Writer ascii(Writer w, Charset cs) {
        CharsetEncoder enc = cs.newEncoder();
        return new FilterWriter(w) {
            @Override
            public void write(int c) throws IOException {
                write(String.valueOf((char) c), 0, 1);
            }

            @Override
            public void write(char[] cbuf, int off, int len) throws IOException {
                write(new String(cbuf, off, len), 0, len);
            }

            @Override
            public void write(String str, int off, int len) throws IOException {
                StringBuilder b = new StringBuilder(len);
                for (int i = off; i < off + len; i++) {
                    char c = str.charAt(i);
                    if (c < 128 || enc.canEncode(c)) b.append(c);
                    else b.append(ASCII.getOrDefault(c, Character.isSurrogate(c) ? (Character.isHighSurrogate(c) ? "?" : "") : "?"));
                }
                out.write(b.toString());
            }
        };
    }

    /** Whether stderr is a terminal: the launcher tells (it pipes stderr), else /proc/self/fd/2, else System.console(). */
    static boolean stderrIsTerminal() {
        String env = System.getenv("LOWBIT_STDERR_TTY");
        if (env != null) return env.equals("1");
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null && System.console().isTerminal();
        }
    }
}
