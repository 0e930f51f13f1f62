package dev.lowbit.cli;

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
}
