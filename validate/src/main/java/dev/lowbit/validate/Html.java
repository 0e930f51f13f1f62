package dev.lowbit.validate;

import dev.lowbit.validate.model.TensorDiff;
import java.util.List;
import java.util.Locale;

/**
 * report.html: one self-contained file (inline CSS and SVG, no scripts, no network): the verdict and thresholds first,
 * the numbers, then plots, each with axis titles and units: Δppl and mean KLD per chunk, the KLD and Δp distributions,
 * the relative error per tensor.
 */
public final class Html {
    private Html() {}

    /** Plot area: W × H with room for the y-axis title and ticks on the left and the x-axis title below. */
    static final int W = 720, H = 240, LEFT = 70, RIGHT = 16, TOP = 14, BOTTOM = 46;

    public static String of(Validation v) {
        DriftReport r = v.drift();
        StringBuilder s = new StringBuilder();
        s.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>lowbit drift report</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:780px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}")
                .append("table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}")
                .append(".verdict{font-size:32px;font-weight:700;margin:8px 0}.pass{color:#17803d}.fail{color:#b91c1c}.gates{font-size:16px;margin-bottom:16px}")
                .append(".cont{margin:10px 0 16px}.cont .prompt{font-weight:600;white-space:pre-wrap}.cont .sides{display:grid;grid-template-columns:1fr 1fr;gap:10px}")
                .append(".cont .side{border:1px solid #ddd;padding:6px 8px;white-space:pre-wrap;font:12px ui-monospace,monospace}.cont .side b{font:600 12px system-ui,sans-serif;display:block;color:#555}")
                .append(".cont mark{background:#fde68a}.cont .diff{font-size:12px;color:#555}.headline{font-size:16px}")
                .append("svg text{font-size:11px;fill:#444}svg .title{font-size:12px;fill:#222}.note{color:#666;font-size:12px}")
                .append("</style></head><body>");
        s.append(f("<div id=\"verdict\" class=\"verdict %s\">%s</div>", v.passed() ? "pass" : "fail", v.passed() ? "PASS" : "FAIL"));
        s.append(f("<div id=\"gates\" class=\"gates\">%s</div>", esc(v.gateLine())));
        s.append(f("<h1>lowbit drift: %s vs %s</h1>", esc(v.candidate()), esc(v.base())));
        s.append("<table><tr><th>metric</th><th>value</th></tr>");
        row(s, "tokens scored", f("%d in %d chunks of %d", r.tokens(), r.chunks(), r.ctx()));
        row(s, "ppl base", f("%.4f ± %.4f", r.base().ppl(), r.base().pplError()));
        row(s, "ppl candidate", f("%.4f ± %.4f", r.candidate().ppl(), r.candidate().pplError()));
        row(s, "Δppl", f("%+.4f (%+.3f%%)", r.deltaPpl(), r.deltaPplPercent()));
        row(s, "mean KLD (nats)", f("%.6f ± %.6f", r.kld().mean(), r.kld().error()));
        row(s, "KLD 99.9% / median (nats)", f("%.6f / %.6f", r.kldPercentiles().get("99.9"), r.kldPercentiles().get("median")));
        row(s, "Δp mean / RMS (percentage points)", f("%+.4f / %.4f", 100 * r.deltaP().mean(), 100 * r.deltaPRms()));
        row(s, "same top-1", f("%.3f%%", r.sameTop1Percent()));
        Continuations c0 = v.continuations();
        if (c0 != null && !c0.prompts().isEmpty())
            row(s, "greedy continuations: first differing token, mean", f("%.1f of %d (%d of %d prompts identical)", c0.meanFirstDiff(), c0.newTokens(), c0.identical(), c0.prompts().size()));
        s.append("</table>");
        List<DriftReport.Chunk> c = r.perChunk();
        double[] dppl = new double[c.size()], kld = new double[c.size()];
        for (int i = 0; i < c.size(); i++) {
            dppl[i] = 100 * (c.get(i).pplCandidate() - c.get(i).pplBase()) / c.get(i).pplBase();
            kld[i] = c.get(i).meanKld();
        }
        s.append("<h2>Δppl per chunk</h2>").append(bars(dppl, "chunk", "Δppl (%, candidate − base)", true));
        s.append("<h2>Mean KL divergence per chunk</h2>").append(bars(kld, "chunk", "mean KLD (nats)", false));
        s.append("<h2>KL divergence per token</h2>").append(histogram(r.kldHistogram(), true, "KLD per token (nats, log scale)"));
        s.append("<h2>Δp of the target token</h2>").append(histogram(r.deltaPHistogram(), false, "Δp = p_candidate − p_base (percentage points)"));
        if (v.continuations() != null) s.append(continuations(v.continuations()));
        if (!v.tensors().isEmpty()) s.append("<h2>Relative error per tensor</h2>").append(tensors(v.tensors()));
        s.append("<p class=\"note\">Per-token values: tokens.arrow beside this file. Schema of report.json: ").append(Validation.SCHEMA).append(".</p>");
        return s.append("</body></html>\n").toString();
    }

    /** Base and candidate continuations side by side; from the first differing token on, the text is highlighted. */
    private static String continuations(Continuations c) {
        StringBuilder s = new StringBuilder("<h2 id=\"continuations\">Continuations (greedy)</h2>");
        s.append(f("<p class=\"headline\">First differing token, mean over %d prompts: <b>%s</b> of %d new tokens (%d identical)</p>", c.prompts().size(),
                Double.isNaN(c.meanFirstDiff()) ? "n/a" : f("%.1f", c.meanFirstDiff()), c.newTokens(), c.identical()));
        for (Continuations.Item i : c.prompts()) {
            s.append("<div class=\"cont\"><div class=\"prompt\">").append(esc(i.prompt())).append("</div><div class=\"sides\">");
            s.append("<div class=\"side\"><b>base</b>").append(esc(i.commonText())).append("<mark>").append(esc(i.baseRest())).append("</mark></div>");
            s.append("<div class=\"side\"><b>candidate</b>").append(esc(i.commonText())).append("<mark>").append(esc(i.candidateRest())).append("</mark></div>");
            s.append("</div><div class=\"diff\">").append(i.same() ? f("identical over all %d tokens", i.baseIds().length)
                    : f("first difference at generated token %d", i.agree())).append("</div></div>");
        }
        return s.toString();
    }

    /** One bar per x (chunk), from zero; signed values go above or below the zero line. */
    private static String bars(double[] y, String xTitle, String yTitle, boolean signed) {
        double hi = 0, lo = 0;
        for (double v : y) {
            hi = Math.max(hi, v);
            lo = Math.min(lo, v);
        }
        if (!signed) lo = 0;
        if (hi - lo <= 0) hi = lo + (signed ? 0.01 : 1e-6);
        int n = y.length;
        StringBuilder s = frame(xTitle, yTitle, tick(hi), tick(lo), "0", String.valueOf(n - 1));
        double bw = (W - LEFT - RIGHT) / (double) Math.max(1, n);
        double zero = yPix(0, lo, hi);
        if (signed) s.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"3,3\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0</text>",
                LEFT, zero, W - RIGHT, zero, LEFT - 4, zero + 4));
        for (int i = 0; i < n; i++) {
            double yv = yPix(y[i], lo, hi), top = Math.min(yv, zero), h = Math.max(0.5, Math.abs(zero - yv));
            s.append(f("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>chunk %d: %s</title></rect>",
                    LEFT + i * bw, top, Math.max(1, bw - 1), h, y[i] > 0 && signed ? "#dc2626" : signed ? "#16a34a" : "#6366f1", i, fmt(y[i])));
        }
        return s.append("</svg>").toString();
    }

    private static String histogram(DriftReport.Histogram h, boolean log, String xTitle) {
        long max = 1;
        for (long c : h.counts()) max = Math.max(max, c);
        int n = h.counts().length;
        double scale = log ? 1 : 100;
        String left = log ? f("%.0e", h.edges()[0]) : f("%+.2f", scale * h.edges()[0]), right = log ? f("%.0e", h.edges()[n]) : f("%+.2f", scale * h.edges()[n]);
        StringBuilder s = frame(xTitle, "tokens", String.valueOf(max), "0", left, right);
        double bw = (W - LEFT - RIGHT) / (double) n;
        for (int i = 0; i < n; i++) {
            double bh = (H - TOP - BOTTOM) * h.counts()[i] / (double) max;
            s.append(f("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#6366f1\"><title>%s..%s: %d tokens</title></rect>",
                    LEFT + i * bw, H - BOTTOM - bh, Math.max(1, bw - 1), bh, fmt(scale * h.edges()[i]), fmt(scale * h.edges()[i + 1]), h.counts()[i]));
        }
        return s.append("</svg>").toString();
    }

    private static String tensors(List<TensorDiff.Row> rows) {
        List<TensorDiff.Row> shown = rows.stream().filter(t -> t.error().relFrobenius() > 0).toList();
        double max = shown.stream().mapToDouble(t -> t.error().relFrobenius()).max().orElse(1);
        int bar = 16, height = Math.max(40, shown.size() * bar + 40);
        StringBuilder s = new StringBuilder(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"relative error per tensor\">", W, height));
        for (int i = 0; i < shown.size(); i++) {
            TensorDiff.Row t = shown.get(i);
            double w = (W - 380.0) * t.error().relFrobenius() / max;
            s.append(f("<text x=\"0\" y=\"%d\">%s</text><rect x=\"300\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f59e0b\"/><text x=\"%.1f\" y=\"%d\">%.4f</text>",
                    i * bar + 12, esc(t.name()), i * bar + 2, w, bar - 4, 304 + w, i * bar + 12, t.error().relFrobenius()));
        }
        s.append(f("<text class=\"title\" x=\"300\" y=\"%d\">relative error ‖W − Ŵ‖ / ‖W‖ (unitless)</text>", shown.size() * bar + 30));
        int same = rows.size() - shown.size();
        if (shown.isEmpty()) s.append("<text x=\"0\" y=\"20\">every tensor identical</text>");
        s.append("</svg>");
        if (same > 0 && !shown.isEmpty()) s.append(f("<p class=\"note\">%d tensors kept exactly (not shown).</p>", same));
        return s.toString();
    }

    /** Axes, tick labels at the ends, and both axis titles. */
    private static StringBuilder frame(String xTitle, String yTitle, String yTop, String yBottom, String xLeft, String xRight) {
        StringBuilder s = new StringBuilder(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s by %s\">",
                W, H, esc(yTitle), esc(xTitle)));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", LEFT, TOP, LEFT, H - BOTTOM));
        s.append(f("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
                LEFT - 4, TOP + 8, esc(yTop), LEFT - 4, H - BOTTOM, esc(yBottom)));
        s.append(f("<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", LEFT, H - BOTTOM + 14, esc(xLeft),
                W - RIGHT, H - BOTTOM + 14, esc(xRight)));
        s.append(f("<text class=\"title axis-x\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (LEFT + W - RIGHT) / 2, H - 8, esc(xTitle)));
        s.append(f("<text class=\"title axis-y\" transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>", (TOP + H - BOTTOM) / 2, esc(yTitle)));
        return s;
    }

    private static double yPix(double v, double lo, double hi) {
        return TOP + (H - TOP - BOTTOM) * (hi - v) / (hi - lo);
    }

    private static String tick(double v) {
        return Math.abs(v) >= 0.01 || v == 0 ? f("%.3g", v) : f("%.2e", v);
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
