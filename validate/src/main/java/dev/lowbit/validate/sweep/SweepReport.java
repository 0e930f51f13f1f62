package dev.lowbit.validate.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.lowbit.formats.AtomicFiles;
import dev.lowbit.validate.JsonOut;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * The sweep's report: sweep.md (the table), sweep.json (rows and inputs) and sweep.html (the table and a bits per
 * weight vs mean KLD chart, inline SVG on a log KLD axis, the Pareto front drawn and marked). Each written through a
 * temp file.
 */
public record SweepReport(List<Sweep.Row> rows, Map<String, Object> inputs) {
    public static final String SCHEMA = "lowbit-sweep/1";

    /** Whether no other row has both fewer-or-equal bits and lower-or-equal KLD, one of them strictly. */
    public boolean onFront(Sweep.Row r) {
        for (Sweep.Row o : rows)
            if (o != r && o.bitsPerWeight() <= r.bitsPerWeight() && o.meanKld() <= r.meanKld()
                    && (o.bitsPerWeight() < r.bitsPerWeight() || o.meanKld() < r.meanKld())) return false;
        return true;
    }

    public String markdown() {
        StringBuilder s = new StringBuilder("| recipe | bits per quantized weight | file size | mean KLD | same top-1 | ppl | Pareto |\n|---|---|---|---|---|---|---|\n");
        for (Sweep.Row r : rows)
            s.append(f("| %s | %.2f | %s | %.6f ± %.6f | %.1f %% | %.3f | %s |%n", r.recipe(), r.bitsPerWeight(), mib(r.fileBytes()), r.meanKld(),
                    r.kldError(), r.sameTop1Percent(), r.ppl(), onFront(r) ? "★" : ""));
        if (!rows.isEmpty()) s.append(f("%nBase ppl %.3f; %s%n", rows.get(0).basePpl(), describe()));
        return s.toString();
    }

    private String describe() {
        Object max = inputs.getOrDefault("max_chunks", 0);
        String chunks = max instanceof Number n && n.intValue() > 0 ? f("the first %d chunks", n.intValue()) : "chunks";
        return f("%s tokens of %s, scored in %s of %s, judged by lowbit's engine, embeddings and lm_head in float for every candidate.",
                inputs.getOrDefault("tokens", "?"), inputs.getOrDefault("text", "?"), chunks, inputs.getOrDefault("ctx", "?"));
    }

    public String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", SCHEMA);
        doc.put("inputs", inputs);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Sweep.Row r : rows) {
            Map<String, Object> m = JsonOut.MAPPER.convertValue(r, new TypeReference<LinkedHashMap<String, Object>>() {});
            m.put("pareto", onFront(r));
            out.add(m);
        }
        doc.put("rows", out);
        return JsonOut.pretty(doc);
    }

    static final int W = 720, H = 380, LEFT = 78, RIGHT = 150, TOP = 16, BOTTOM = 48;

    public String html() {
        StringBuilder s = new StringBuilder();
        s.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>lowbit sweep</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:900px}h1{font-size:20px}")
                .append("table{border-collapse:collapse;margin-top:16px}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}")
                .append("td:first-child,th:first-child{text-align:left}tr.front td:first-child{font-weight:700}")
                .append("svg text{font-size:11px;fill:#444}svg .title{font-size:12px;fill:#222}.note{color:#666;font-size:12px}")
                .append("</style></head><body><h1>lowbit sweep: quality per bit</h1>");
        s.append("<p class=\"note\">").append(esc(describe())).append(" Bits per quantized weight: the quantized tensors' bytes × 8 / their elements. ")
                .append("Pareto front (no recipe is both smaller and closer): filled points joined by the line, ★ in the table.</p>");
        s.append(chart());
        s.append("<table><tr><th>recipe</th><th>bits per quantized weight</th><th>file size</th><th>mean KLD</th><th>same top-1</th><th>ppl</th><th>Pareto</th></tr>");
        for (Sweep.Row r : rows)
            s.append(f("<tr%s><td>%s</td><td>%.2f</td><td>%s</td><td>%.6f ± %.6f</td><td>%.1f %%</td><td>%.3f</td><td>%s</td></tr>",
                    onFront(r) ? " class=\"front\"" : "", esc(r.recipe()), r.bitsPerWeight(), mib(r.fileBytes()), r.meanKld(), r.kldError(),
                    r.sameTop1Percent(), r.ppl(), onFront(r) ? "★" : ""));
        s.append("</table></body></html>\n");
        return s.toString();
    }

    private String chart() {
        if (rows.isEmpty()) return "";
        double bMin = Double.POSITIVE_INFINITY, bMax = 0, kMin = Double.POSITIVE_INFINITY, kMax = 0;
        for (Sweep.Row r : rows) {
            bMin = Math.min(bMin, r.bitsPerWeight());
            bMax = Math.max(bMax, r.bitsPerWeight());
            double k = Math.max(r.meanKld(), 1e-9);
            kMin = Math.min(kMin, k);
            kMax = Math.max(kMax, k);
        }
        bMin = Math.floor(bMin * 4 - 1) / 4;
        bMax = Math.ceil(bMax * 4 + 1) / 4;
        double lMin = Math.floor(Math.log10(kMin) * 4) / 4 - 0.05, lMax = Math.ceil(Math.log10(kMax) * 4) / 4 + 0.05;
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        final double b0 = bMin, b1 = bMax, l0 = lMin, l1 = lMax;
        DoubleUnaryOperator x = b -> LEFT + (b - b0) / (b1 - b0) * pw;
        DoubleUnaryOperator y = k -> TOP + (l1 - Math.log10(Math.max(k, 1e-9))) / (l1 - l0) * ph;
        StringBuilder s = new StringBuilder(f("<svg id=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                + "aria-label=\"bits per weight vs mean KLD\">", W, H, W, H));
        s.append(f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", LEFT, TOP, pw, ph));
        double step = (bMax - bMin) > 3 ? 1 : (bMax - bMin) > 1.5 ? 0.5 : 0.25;
        for (double b = Math.ceil(bMin / step) * step; b <= bMax + 1e-9; b += step) {
            double px = x.applyAsDouble(b);
            s.append(f("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>", px, TOP, px, TOP + ph));
            s.append(f("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f</text>", px, TOP + ph + 16, b));
        }
        for (int e = (int) Math.floor(lMin); e <= Math.ceil(lMax); e++)
            for (double m : lMax - lMin < 1.2 ? new double[] {1, 1.5, 2, 3, 4, 5, 6, 7, 8} : new double[] {1, 2, 5}) {
                double k = m * Math.pow(10, e), l = Math.log10(k);
                if (l < lMin || l > lMax) continue;
                double py = y.applyAsDouble(k);
                s.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>", LEFT, py, LEFT + pw, py));
                s.append(f("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT - 6, py + 4, tick(k)));
            }
        s.append(f("<text class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">bits per quantized weight</text>", LEFT + pw / 2, H - 10));
        s.append(f("<text class=\"title\" transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">mean KLD vs original (nats, log scale)</text>", TOP + ph / 2));
        List<Sweep.Row> front = new ArrayList<>();
        for (Sweep.Row r : rows) if (onFront(r)) front.add(r);
        front.sort(Comparator.comparingDouble(Sweep.Row::bitsPerWeight));
        if (front.size() > 1) {
            StringBuilder pts = new StringBuilder();
            for (Sweep.Row r : front) pts.append(f("%.1f,%.1f ", x.applyAsDouble(r.bitsPerWeight()), y.applyAsDouble(r.meanKld())));
            s.append("<polyline id=\"front\" fill=\"none\" stroke=\"#17803d\" stroke-width=\"1.5\" points=\"").append(pts.toString().trim()).append("\"/>");
        }
        List<double[]> placed = new ArrayList<>(); // label boxes: x0, x1, baseline y
        for (Sweep.Row r : rows) {
            double px = x.applyAsDouble(r.bitsPerWeight()), py = y.applyAsDouble(r.meanKld());
            boolean fr = onFront(r);
            double lx = px + 7, ly = py + 4, lw = 6.2 * r.recipe().length();
            for (int tries = 0; tries < 12 && overlaps(placed, lx, lx + lw, ly); tries++) ly += 13;
            placed.add(new double[] {lx, lx + lw, ly});
            s.append(f("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"%s\"><title>%s: %.2f bits, KLD %.5f</title></circle>", px, py,
                    fr ? "#17803d" : "#fff", fr ? "#17803d" : color(r.kind()), esc(r.recipe()), r.bitsPerWeight(), r.meanKld()));
            s.append(f("<text x=\"%.1f\" y=\"%.1f\">%s</text>", lx, ly, esc(r.recipe())));
        }
        return s.append("</svg>").toString();
    }

    private static boolean overlaps(List<double[]> placed, double x0, double x1, double y) {
        for (double[] b : placed) if (x0 < b[1] && b[0] < x1 && Math.abs(y - b[2]) < 12) return true;
        return false;
    }

    private static String color(String kind) {
        return switch (kind) {
            case "file" -> "#b45309";
            case "gguf" -> "#1d4ed8";
            default -> "#7c3aed";
        };
    }

    private static String tick(double k) {
        return new BigDecimal(k).round(new MathContext(2)).stripTrailingZeros().toPlainString();
    }

    /** sweep.md, sweep.json and sweep.html in dir (created if needed). */
    public void write(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException("-o " + dir + ": exists and is not a folder");
        Files.createDirectories(dir);
        String md = markdown(), js = json(), ht = html();
        AtomicFiles.write(dir.resolve("sweep.md"), o -> o.write(md.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("sweep.json"), o -> o.write(js.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("sweep.html"), o -> o.write(ht.getBytes(StandardCharsets.UTF_8)));
    }

    private static String mib(long bytes) {
        return f("%.2f MiB", bytes / 1048576.0);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }
}
