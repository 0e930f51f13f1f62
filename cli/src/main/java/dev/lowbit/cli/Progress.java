package dev.lowbit.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, drawn when stderr is a terminal (whatever stdout is) and not --quiet: from the
 * start, in MiB or chunks, with an ETA measured after the first step (which carries the JIT warm-up).
 */
final class Progress {
    enum Unit { MIB, CHUNKS }

    private final String label;
    private final long total;
    private final Unit unit;
    private final PrintStream err;
    private final long start = System.nanoTime();
    private long lastDraw, firstAt = -1, firstDone;
    private int drawnWidth;

    private Progress(String label, long total, Unit unit, PrintStream err) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.err = err;
        update(0);
    }

    static Progress start(String label, long total, boolean forPeople) {
        return start(label, total, Unit.CHUNKS, forPeople);
    }

    static Progress start(String label, long total, Unit unit, boolean forPeople) {
        boolean show = forPeople && !Main.quiet && Text.stderrIsTerminal();
        return new Progress(label, total, unit, show ? System.err : null);
    }

    /** A bar drawn on the given stream whatever it is (for tests of what the bar says). */
    static Progress to(PrintStream err, String label, long total, Unit unit) {
        return new Progress(label, total, unit, err);
    }

    void update(long done) {
        if (err == null) return;
        long now = System.nanoTime();
        if (done > 0 && firstAt < 0) {
            firstAt = now;
            firstDone = done;
        }
        if (done > 0 && done < total && now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        int width = 24, filled = (int) (width * Math.min(done, total) / Math.max(1, total));
        String counts = unit == Unit.MIB ? Units.mib(done) + "/" + Units.mib(total) + " MiB" : done + "/" + total + " chunks";
        String line = String.format(Locale.ROOT, "\r%s [%s%s] %3d%%  %s  %s", label, "#".repeat(filled), "-".repeat(width - filled),
                100 * Math.min(done, total) / Math.max(1, total), counts, eta(now, done));
        err.print(line + " ".repeat(Math.max(0, drawnWidth - line.length())));
        drawnWidth = line.length();
        err.flush();
    }

    /** Rate since the first step (which includes JIT warm-up and file opening) to predict the rest. */
    String eta(long now, long done) {
        if (done >= total) return "elapsed " + Units.duration((now - start) / 1e9);
        if (firstAt < 0 || done <= firstDone || now - firstAt < 500_000_000L) return "ETA ...";
        double perUnit = (now - firstAt) / 1e9 / (done - firstDone);
        return "ETA " + Units.duration(perUnit * (total - done));
    }

    void done() {
        if (err != null) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            err.flush();
        }
    }
}
