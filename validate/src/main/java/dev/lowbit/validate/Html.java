package dev.lowbit.validate;

import dev.lowbit.validate.model.TensorDiff;
import java.util.List;
import java.util.Locale;

/** report.html: one self-contained file (inline CSS and SVG, no scripts, no network) with the plots of a validation. */
public final class Html {
    private Html() {}

    static final int W = 720, H = 220, PAD = 44;

    public static String of(Validation v) {
        DriftReport r = v.drift();
        StringBuilder s = new StringBuilder();
        s.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>lowbit drift report</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:760px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}")
                .append("table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}")
                .append(".pass{color:#17803d}.fail{color:#b91c1c}svg text{font-size:11px;fill:#444}.base{stroke:#2563eb}.cand{stroke:#dc2626}")
                .append("</style></head><body>");
        s.append(f("<h1>lowbit drift: %s vs %s</h1>", esc(v.candidate()), esc(v.base())));
        s.append(v.passed() ? "<p class=\"pass\">gates: pass</p>" : f("<p class=\"fail\">gate failed: %s</p>", esc(String.join("; ", v.failed()))));
        s.append("<table><tr><th>metric</th><th>value</th></tr>");
        row(s, "tokens scored", f("%d in %d chunks of %d", r.tokens(), r.chunks(), r.ctx()));
        row(s, "ppl base", f("%.4f ± %.4f", r.base().ppl(), r.base().pplError()));
        row(s, "ppl candidate", f("%.4f ± %.4f", r.candidate().ppl(), r.candidate().pplError()));
        row(s, "Δppl", f("%+.4f (%+.3f%%)", r.deltaPpl(), r.deltaPplPercent()));
        row(s, "mean KLD", f("%.6f ± %.6f", r.kld().mean(), r.kld().error()));
        row(s, "KLD 99.9% / median", f("%.6f / %.6f", r.kldPercentiles().get("99.9"), r.kldPercentiles().get("median")));
        row(s, "Δp RMS", f("%.4f%%", 100 * r.deltaPRms()));
        row(s, "same top-1", f("%.3f%%", r.sameTop1Percent()));
        s.append("</table>");
        s.append("<h2>Perplexity per chunk</h2>").append(chunks(r.perChunk()));
        s.append("<h2>KL divergence per token (log scale)</h2>").append(histogram(r.kldHistogram(), true));
        s.append("<h2>Δp of the target token (candidate − base)</h2>").append(histogram(r.deltaPHistogram(), false));
        if (!v.tensors().isEmpty()) s.append("<h2>Relative error per tensor</h2>").append(tensors(v.tensors()));
        return s.append("</body></html>\n").toString();
    }

    private static String chunks(List<DriftReport.Chunk> c) {
        double lo = Double.MAX_VALUE, hi = 0;
        for (DriftReport.Chunk k : c) {
            lo = Math.min(lo, Math.min(k.pplBase(), k.pplCandidate()));
            hi = Math.max(hi, Math.max(k.pplBase(), k.pplCandidate()));
        }
        if (hi <= lo) hi = lo + 1;
        StringBuilder s = svg(f("%.1f", hi), f("%.1f", lo), "chunk 0", "chunk " + (c.size() - 1));
        for (String side : new String[] {"base", "cand"}) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                double y = side.equals("base") ? c.get(i).pplBase() : c.get(i).pplCandidate();
                pts.append(f("%.1f,%.1f ", x(i, Math.max(1, c.size() - 1)), PAD / 2.0 + (H - PAD) * (hi - y) / (hi - lo)));
            }
            s.append(f("<polyline class=\"%s\" fill=\"none\" stroke-width=\"%s\" points=\"%s\"/>", side, side.equals("base") ? "4" : "1.5", pts));
        }
        s.append(f("<text x=\"%d\" y=\"14\" style=\"fill:#2563eb\">base</text><text x=\"%d\" y=\"14\" style=\"fill:#dc2626\">candidate</text>", W - 150, W - 100));
        return s.append("</svg>").toString();
    }

    private static String histogram(DriftReport.Histogram h, boolean log) {
        long max = 1;
        for (long c : h.counts()) max = Math.max(max, c);
        int n = h.counts().length;
        StringBuilder s = svg(String.valueOf(max), "0", f(log ? "%.0e" : "%+.3f", h.edges()[0]), f(log ? "%.0e" : "%+.3f", h.edges()[n]));
        double bw = (W - 2.0 * PAD) / n;
        for (int i = 0; i < n; i++) {
            double bh = (H - PAD) * h.counts()[i] / (double) max;
            s.append(f("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#6366f1\"><title>%s..%s: %d</title></rect>",
                    PAD + i * bw, H - PAD / 2.0 - bh, Math.max(1, bw - 1), bh, fmt(h.edges()[i]), fmt(h.edges()[i + 1]), h.counts()[i]));
        }
        return s.append("</svg>").toString();
    }

    private static String tensors(List<TensorDiff.Row> rows) {
        List<TensorDiff.Row> shown = rows.stream().filter(t -> t.error().relFrobenius() > 0).toList();
        double max = shown.stream().mapToDouble(t -> t.error().relFrobenius()).max().orElse(1);
        int bar = 16, height = Math.max(40, shown.size() * bar + 10);
        StringBuilder s = new StringBuilder(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", W, height));
        for (int i = 0; i < shown.size(); i++) {
            TensorDiff.Row t = shown.get(i);
            double w = (W - 360.0) * t.error().relFrobenius() / max;
            s.append(f("<text x=\"0\" y=\"%d\">%s</text><rect x=\"300\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f59e0b\"/><text x=\"%.1f\" y=\"%d\">%.4f</text>",
                    i * bar + 12, esc(t.name()), i * bar + 2, w, bar - 4, 304 + w, i * bar + 12, t.error().relFrobenius()));
        }
        if (shown.isEmpty()) s.append("<text x=\"0\" y=\"20\">every tensor identical</text>");
        return s.append("</svg>").toString();
    }

    private static StringBuilder svg(String yTop, String yBottom, String xLeft, String xRight) {
        StringBuilder s = new StringBuilder(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", W, H));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, H - PAD / 2, W - PAD, H - PAD / 2));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, PAD / 2, PAD, H - PAD / 2));
        s.append(f("<text x=\"2\" y=\"%d\">%s</text><text x=\"2\" y=\"%d\">%s</text>", PAD / 2 + 4, esc(yTop), H - PAD / 2, esc(yBottom)));
        s.append(f("<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PAD, H - 4, esc(xLeft), W - PAD, H - 4, esc(xRight)));
        return s;
    }

    private static double x(int i, int n) {
        return PAD + (W - 2.0 * PAD) * i / n;
    }

    private static void row(StringBuilder s, String k, String v) {
        s.append("<tr><td>").append(esc(k)).append("</td><td>").append(esc(v)).append("</td></tr>");
    }

    private static String fmt(double d) {
        return f("%.3g", d);
    }

    private static String esc(String x) {
        return x.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }
}
