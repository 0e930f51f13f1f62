package dev.lowbit.cli;

import java.math.BigDecimal;
import java.util.Locale;

/** Human-readable sizes and counts. */
final class Units {
    private Units() {}

    static String bytes(long b) {
        if (b < 1024) return b + " B";
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, u[i]);
    }

    static String count(long n) {
        if (n < 1000) return Long.toString(n);
        String[] u = {"K", "M", "B", "T"};
        double v = n;
        int i = -1;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return String.format(Locale.ROOT, "%.2f%s", v, u[i]);
    }

    /** A number as the user typed it: 0.0001, not 1.0E-4; 2, not 2.0. */
    static String plain(Double d) {
        if (d == null) return "null";
        if (d.isNaN() || d.isInfinite()) return d.toString();
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    /** Bytes per second in a unit that shows it (2.71 MiB, not 0.00 GB): the bytes over the seconds, "-" when no time passed. */
    static String rate(long bytes, double seconds) {
        return seconds > 0 ? bytes((long) (bytes / seconds)) : "-";
    }

    /** MiB with one decimal. */
    static String mib(long b) {
        return String.format(Locale.ROOT, "%.1f", b / 1048576.0);
    }

    /** 7 s, 1 min 05 s, 2 h 03 min. */
    static String duration(double secs) {
        long s = Math.round(secs);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }
}
