package dev.lowbit.formats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What `lowbit inspect` reports of a model: read from headers and config.json only. */
public record Inspection(String path, String architecture, long parameters, long bytes, Map<String, Long> bytesByDtype,
                         List<Row> tensors, int files, Map<String, String> metadata) {

    public record Row(String name, String dtype, long[] shape, long bytes) {}

    public static Inspection of(Path input) {
        try (Checkpoint ck = Checkpoint.open(input)) {
            Path cfg = ck.dir().resolve("config.json");
            String arch = Files.isRegularFile(cfg) ? ModelConfig.read(cfg).arch().hfClass : "unknown (no config.json)";
            Map<String, Long> byDtype = new TreeMap<>();
            long params = 0, bytes = 0;
            List<Row> rows = new java.util.ArrayList<>();
            for (Tensor t : ck.tensors()) {
                params += t.numel();
                bytes += t.byteSize();
                byDtype.merge(t.dtype().name(), t.byteSize(), Long::sum);
                rows.add(new Row(t.name(), t.dtype().name(), t.shape(), t.byteSize()));
            }
            rows.sort(java.util.Comparator.comparing(Row::name, Inspection::naturalOrder));
            return new Inspection(input.toString(), arch, params, bytes, byDtype, rows, ck.files().size(), ck.metadata());
        }
    }

    /** Orders "layers.10" after "layers.9". */
    static int naturalOrder(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char x = a.charAt(i), y = b.charAt(j);
            if (Character.isDigit(x) && Character.isDigit(y)) {
                int i2 = i, j2 = j;
                while (i2 < a.length() && Character.isDigit(a.charAt(i2))) i2++;
                while (j2 < b.length() && Character.isDigit(b.charAt(j2))) j2++;
                int c = Long.compare(Long.parseLong(a.substring(i, Math.min(i2, i + 18))), Long.parseLong(b.substring(j, Math.min(j2, j + 18))));
                if (c != 0) return c;
                i = i2;
                j = j2;
            } else {
                if (x != y) return Character.compare(x, y);
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
