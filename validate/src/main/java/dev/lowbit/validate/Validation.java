package dev.lowbit.validate;

import dev.lowbit.formats.AtomicFiles;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.validate.model.TensorDiff;
import dev.lowbit.validate.tokenizer.Tokenizer;
import dev.lowbit.validate.model.Transformer;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

/** `lowbit validate` as a library call: drift, per-tensor error, gates, and the report files. */
public record Validation(String base, String candidate, DriftReport drift, List<TensorDiff.Row> tensors, Gates gates, List<String> failed,
                         Drift.Tokens tokens, Map<String, Object> inputs, Continuations continuations) {

    /** CI gates; null fields are not checked. */
    public record Gates(Double maxPplDriftPercent, Double maxKld, Double minTop1Percent) {
        List<String> failures(DriftReport r) {
            List<String> f = new ArrayList<>();
            if (maxPplDriftPercent != null && r.deltaPplPercent() > maxPplDriftPercent)
                f.add(String.format(Locale.ROOT, "--max-ppl-drift %s: ppl drift %+.3f%% > %s%%", plain(maxPplDriftPercent), r.deltaPplPercent(), plain(maxPplDriftPercent)));
            if (maxKld != null && r.kld().mean() > maxKld)
                f.add(String.format(Locale.ROOT, "--max-kld %s: mean KLD %s > %s", plain(maxKld), significant(r.kld().mean()), plain(maxKld)));
            if (minTop1Percent != null && r.sameTop1Percent() < minTop1Percent)
                f.add(String.format(Locale.ROOT, "--min-top1 %s: same top-1 %.3f%% < %s%%", plain(minTop1Percent), r.sameTop1Percent(), plain(minTop1Percent)));
            return f;
        }
    }

    /** A threshold as the user typed it: 0.0001, not 1.0E-4. */
    static String plain(double d) {
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    /** Four significant digits, never in E notation. */
    static String significant(double d) {
        return new BigDecimal(d).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    public static Validation run(Path base, Path candidate, int[] ids, int ctx, int maxChunks, Gates gates, IntConsumer progress) {
        return run(base, candidate, ids, ctx, maxChunks, gates, progress, Continuations.Request.none());
    }

    /** As run, plus the greedy continuations of the requested prompts by both models (none when the base has no tokenizer). */
    public static Validation run(Path base, Path candidate, int[] ids, int ctx, int maxChunks, Gates gates, IntConsumer progress,
                                 Continuations.Request cont) {
        Drift.Tokens t;
        Continuations conts = null;
        try (Transformer b = Transformer.open(base); Transformer c = Transformer.open(candidate)) {
            t = Drift.run(b, c, ids, ctx, maxChunks, progress);
            Tokenizer tok = cont.off() ? null : tokenizerOf(base);
            if (tok != null) conts = Continuations.run(base, b, c, tok, cont);
        }
        DriftReport r = DriftReport.of(t, ctx);
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("base", Provenance.model(base));
        in.put("candidate", Provenance.model(candidate));
        in.put("text", Provenance.text(null, ids.length));
        in.put("ctx", ctx);
        in.put("max_chunks", maxChunks);
        in.put("scheme", Provenance.scheme(candidate));
        return new Validation(base.toString(), candidate.toString(), r, TensorDiff.compare(base, candidate), gates, gates.failures(r), t, in, conts);
    }

    /** The same result with the base named as the user knows it (e.g. "MODEL + LoRA A" for a merge made in a temp folder). */
    public Validation relabelBase(String baseName) {
        Map<String, Object> in = new LinkedHashMap<>(inputs);
        @SuppressWarnings("unchecked")
        Map<String, Object> b = new LinkedHashMap<>((Map<String, Object>) inputs.get("base"));
        b.put("path", baseName);
        in.put("base", b);
        return new Validation(baseName, candidate, drift, tensors, gates, failed, tokens, in, continuations);
    }

    /** The same validation, reporting the candidate under another name (where convert moved it). */
    public Validation relabel(String candidateName) {
        Map<String, Object> in = new LinkedHashMap<>(inputs);
        @SuppressWarnings("unchecked")
        Map<String, Object> c = new LinkedHashMap<>((Map<String, Object>) inputs.get("candidate"));
        c.put("path", candidateName);
        in.put("candidate", c);
        return new Validation(base, candidateName, drift, tensors, gates, failed, tokens, in, continuations);
    }

    /** The same validation, naming the text file the ids came from (its sha256 and token count go in the report). */
    public Validation withText(Path file) {
        if (file == null) return this;
        Map<String, Object> in = new LinkedHashMap<>(inputs);
        in.put("text", Provenance.text(file, ((Number) ((Map<?, ?>) inputs.get("text")).get("tokens")).intValue()));
        return new Validation(base, candidate, drift, tensors, gates, failed, tokens, in, continuations);
    }

    public String verdict() {
        return passed() ? "pass" : "fail";
    }

    public boolean passed() {
        return failed.isEmpty();
    }

    public String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", SCHEMA);
        doc.put("verdict", verdict());
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("max_ppl_drift_percent", gates.maxPplDriftPercent());
        g.put("max_kld", gates.maxKld());
        g.put("min_top1_percent", gates.minTop1Percent());
        g.put("failed", failed);
        doc.put("gates", g);
        doc.put("base", base);
        doc.put("candidate", candidate);
        doc.put("inputs", inputs);
        doc.put("lowbit_version", Provenance.version());
        doc.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        doc.put("drift", drift);
        doc.put("tensors", tensors);
        if (continuations != null) doc.put("continuations", continuationsJson());
        return JsonOut.pretty(doc);
    }

    /** report.json's schema: lowbit-drift/3 (snake_case keys, verdict, inputs, version, timestamp; /3 adds continuations). */
    public static final String SCHEMA = "lowbit-drift/3";

    private Map<String, Object> continuationsJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("decoding", "greedy");
        m.put("new_tokens", continuations.newTokens());
        m.put("mean_first_diff", continuations.meanFirstDiff());
        m.put("identical", continuations.identical());
        List<Map<String, Object>> items = new ArrayList<>();
        for (Continuations.Item i : continuations.prompts()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("prompt", i.prompt());
            p.put("prompt_ids", i.promptIds());
            p.put("base_ids", i.baseIds());
            p.put("candidate_ids", i.candidateIds());
            p.put("base_text", i.baseText());
            p.put("candidate_text", i.candidateText());
            p.put("first_diff", i.same() ? null : i.agree());
            p.put("agreeing_tokens", i.agree());
            items.add(p);
        }
        m.put("prompts", items);
        return m;
    }

    public String markdown() {
        return Markdown.of(this);
    }

    /** The base's tokenizer (tokenizer.json in its folder, or a .gguf file's metadata), or null when it has none. */
    private static Tokenizer tokenizerOf(Path base) {
        if (GgufFile.isGguf(base) && Files.isRegularFile(base)) {
            try {
                return Tokenizer.load(base);
            } catch (FormatException e) {
                return null;
            }
        }
        Path tokenizer = base.resolve("tokenizer.json");
        return Files.isRegularFile(tokenizer) ? Tokenizer.load(tokenizer) : null;
    }


    /** The gates as one line: "--max-ppl-drift 1 (+0.246%: pass), --max-kld 0.0001 (0.001826: FAIL)", or "none". */
    public String gateLine() {
        List<String> g = new ArrayList<>();
        DriftReport r = drift;
        if (gates.maxPplDriftPercent() != null)
            g.add(String.format(Locale.ROOT, "ppl drift %+.3f%% ≤ %s%% %s", r.deltaPplPercent(), plain(gates.maxPplDriftPercent()),
                    r.deltaPplPercent() > gates.maxPplDriftPercent() ? "FAIL" : "pass"));
        if (gates.maxKld() != null)
            g.add(String.format(Locale.ROOT, "mean KLD %s ≤ %s %s", significant(r.kld().mean()), plain(gates.maxKld()), r.kld().mean() > gates.maxKld() ? "FAIL" : "pass"));
        if (gates.minTop1Percent() != null)
            g.add(String.format(Locale.ROOT, "same top-1 %.3f%% ≥ %s%% %s", r.sameTop1Percent(), plain(gates.minTop1Percent()),
                    r.sameTop1Percent() < gates.minTop1Percent() ? "FAIL" : "pass"));
        return g.isEmpty() ? "no gates set" : String.join("; ", g);
    }

    /** report.json, report.md, report.html, tokens.arrow and tokens.csv.gz (each through a temp file). */
    public void write(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new IllegalArgumentException("--report " + dir + ": exists and is not a folder (the report is a folder of report.json, report.md, report.html, tokens.arrow)");
        Files.createDirectories(dir);
        Tokenizer tok = tokenizerOf(Path.of(base));
        TokensArrow.write(dir.resolve("tokens.arrow"), tokens, tok, TokensArrow.metadata(base, candidate, drift.ctx()));
        TokensArrow.writeCsv(dir.resolve("tokens.csv.gz"), tokens, tok);
        String j = json(), md = markdown(), html = Html.of(this);
        AtomicFiles.write(dir.resolve("report.json"), o -> o.write(j.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("report.md"), o -> o.write(md.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("report.html"), o -> o.write(html.getBytes(StandardCharsets.UTF_8)));
    }
}
