package dev.lowbit.cli;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on stderr, shown only when stderr is a terminal and output is for people. */
final class Progress {
    private final String label;
    private final long total;
    private final PrintStream err;
    private final long start = System.nanoTime();
    private long lastDraw;

    private Progress(String label, long total, PrintStream err) {
        this.label = label;
        this.total = total;
        this.err = err;
    }

    static Progress start(String label, long total, boolean forPeople) {
        boolean tty = System.console() != null && System.console().isTerminal();
        return new Progress(label, total, forPeople && tty ? System.err : null);
    }

    void update(long done) {
        if (err == null) return;
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 100_000_000L) return;
        lastDraw = now;
        int width = 30, filled = (int) (width * done / Math.max(1, total));
        double secs = (now - start) / 1e9;
        double eta = done == 0 ? 0 : secs * (total - done) / done;
        err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d  %.0fs left ", label, "#".repeat(filled), " ".repeat(width - filled), done, total, eta);
        err.flush();
    }

    void done() {
        if (err != null) err.print("\r" + " ".repeat(label.length() + 60) + "\r");
    }
}
