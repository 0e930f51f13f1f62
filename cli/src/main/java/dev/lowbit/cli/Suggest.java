package dev.lowbit.cli;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** "Did you mean": the option or command names within a few typed characters of what was typed. */
final class Suggest {
    private Suggest() {}

    /** Suggestions for the first unmatched argument of this command line: its options if it looks like one, else its subcommands. */
    static List<String> forUnmatched(CommandLine c, List<String> unmatched) {
        if (unmatched.isEmpty()) return List.of();
        String typed = unmatched.getFirst().split("=", 2)[0];
        CommandSpec spec = c.getCommandSpec();
        Collection<String> names = typed.startsWith("-")
                ? spec.options().stream().filter(o -> !o.hidden()).map(OptionSpec::longestName).toList()
                : spec.subcommands().keySet();
        return nearest(typed, names);
    }

    /** Names at edit distance at most max(2, length/4) from typed, nearest first, at most three. */
    static List<String> nearest(String typed, Collection<String> names) {
        int limit = Math.max(2, typed.length() / 4);
        return names.stream().distinct().filter(n -> distance(typed, n) <= limit)
                .sorted(Comparator.comparingInt((String n) -> distance(typed, n)).thenComparing(n -> n)).limit(3).toList();
    }

    /** Levenshtein distance (insert, delete, substitute: 1 each). */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++)
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
