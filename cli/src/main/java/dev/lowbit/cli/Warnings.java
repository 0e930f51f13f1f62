package dev.lowbit.cli;

import java.io.PrintWriter;
import java.util.List;

/** Warnings on stderr ("lowbit: warning: ..."), silenced by --quiet. */
final class Warnings {
    private Warnings() {}

    static void print(PrintWriter err, List<String> warnings) {
        if (Main.quiet) return;
        for (String w : warnings) err.println("lowbit: warning: " + w);
        err.flush();
    }

    static void print(PrintWriter err, String warning) {
        print(err, List.of(warning));
    }
}
