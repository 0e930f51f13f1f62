package dev.lowbit.formats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** What `lowbit inspect` reports of a model: read from headers and config.json only. */
public record Inspection(String path, String architecture, long parameters, long bytes, Map<String, Long> bytesByDtype,
                         List<Row> tensors, int files, Map<String, String> metadata, Map<String, Object> hyperParameters) {

    public Inspection(String path, String architecture, long parameters, long bytes, Map<String, Long> bytesByDtype,
                      List<Row> tensors, int files, Map<String, String> metadata) {
        this(path, architecture, parameters, bytes, bytesByDtype, tensors, files, metadata, Map.of());
    }

    public record Row(String name, String dtype, long[] shape, long bytes) {}

    public static Inspection of(Path input) {
        if (GgufFile.isGguf(input) && Files.isRegularFile(input)) return GgufInspection.of(input);
        try (Checkpoint ck = Checkpoint.open(input)) {
            Path cfg = ck.dir().resolve("config.json");
            String arch = Files.isRegularFile(cfg) ? ModelConfig.read(cfg).arch().hfClass : "unknown (no config.json)";
            Map<String, Long> byDtype = new TreeMap<>();
            Map<String, Long> quantized = quantizedWeights(ck);
            long params = quantized.values().stream().mapToLong(Long::longValue).sum(), bytes = 0;
            List<Row> rows = new ArrayList<>();
            for (Tensor t : ck.tensors()) {
                if (!isPartOfQuantized(t.name(), quantized.keySet())) params += t.numel();
                bytes += t.byteSize();
                byDtype.merge(t.dtype().name(), t.byteSize(), Long::sum);
                rows.add(new Row(t.name(), t.dtype().name(), t.shape(), t.byteSize()));
            }
            rows.sort(Comparator.comparing(Row::name, Inspection::naturalOrder));
            return new Inspection(input.toString(), arch, params, bytes, byDtype, rows, ck.files().size(), ck.metadata());
        }
    }

    /**
     * Quantized weights and their logical element counts: lowbit's `__metadata__` entries ("lowbit:W") and bitsandbytes'
     * packed quant_state ("W.quant_state.bitsandbytes__nf4"); LLM.int8 weights count as stored (their SCB does not).
     */
    static Map<String, Long> quantizedWeights(Checkpoint ck) {
        Map<String, Long> out = new HashMap<>();
        try {
            for (var e : ck.metadata().entrySet()) {
                if (e.getKey().startsWith("lowbit:")) out.put(e.getKey().substring(7), numel(JsonTree.readStrict(e.getValue()).get("shape")));
            }
            for (Tensor t : ck.tensors()) {
                int i = t.name().indexOf(".quant_state.bitsandbytes__");
                if (i < 0) continue;
                byte[] json = t.data().toArray(ValueLayout.JAVA_BYTE);
                out.put(t.name().substring(0, i), numel(JsonTree.readStrict(json).get("shape")));
            }
        } catch (IOException e) {
            throw new FormatException(ck.dir(), "quantization description is not valid JSON");
        }
        return out;
    }

    private static long numel(JsonNode shape) {
        long n = 1;
        for (var d : shape) n *= d.asLong();
        return n;
    }

    /** A stored part (packed data, scales, maps, zeros) of a quantized weight, or an LLM.int8 row scale. */
    private static boolean isPartOfQuantized(String name, Set<String> weights) {
        if (name.endsWith(".SCB") || name.endsWith(".weight_format")) return true;
        if (weights.contains(name)) return true;
        for (int i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) {
            if (weights.contains(name.substring(0, i))) return true;
        }
        return false;
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
