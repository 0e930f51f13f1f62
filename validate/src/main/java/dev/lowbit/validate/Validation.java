package dev.lowbit.validate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lowbit.formats.AtomicFiles;
import dev.lowbit.validate.model.TensorDiff;
import dev.lowbit.validate.tokenizer.Tokenizer;
import dev.lowbit.validate.model.Transformer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

/** `lowbit validate` as a library call: drift, per-tensor error, gates, and the report files. */
public record Validation(String base, String candidate, DriftReport drift, List<TensorDiff.Row> tensors, Gates gates, List<String> failed,
                         Drift.Tokens tokens) {

    /** CI gates; null fields are not checked. */
    public record Gates(Double maxPplDriftPercent, Double maxKld, Double minTop1Percent) {
        List<String> failures(DriftReport r) {
            List<String> f = new ArrayList<>();
            if (maxPplDriftPercent != null && r.deltaPplPercent() > maxPplDriftPercent)
                f.add(String.format(Locale.ROOT, "--max-ppl-drift %s: ppl drift %+.3f%%", maxPplDriftPercent, r.deltaPplPercent()));
            if (maxKld != null && r.kld().mean() > maxKld) f.add(String.format(Locale.ROOT, "--max-kld %s: mean KLD %.6f", maxKld, r.kld().mean()));
            if (minTop1Percent != null && r.sameTop1Percent() < minTop1Percent)
                f.add(String.format(Locale.ROOT, "--min-top1 %s: same top-1 %.3f%%", minTop1Percent, r.sameTop1Percent()));
            return f;
        }
    }

    public static Validation run(Path base, Path candidate, int[] ids, int ctx, int maxChunks, Gates gates, IntConsumer progress) {
        Drift.Tokens t;
        try (Transformer b = Transformer.open(base); Transformer c = Transformer.open(candidate)) {
            t = Drift.run(b, c, ids, ctx, maxChunks, progress);
        }
        DriftReport r = DriftReport.of(t, ctx);
        return new Validation(base.toString(), candidate.toString(), r, TensorDiff.compare(base, candidate), gates, gates.failures(r), t);
    }

    /** The same validation, reporting the candidate under another name (where convert moved it). */
    public Validation relabel(String candidateName) {
        return new Validation(base, candidateName, drift, tensors, gates, failed, tokens);
    }

    public boolean passed() {
        return failed.isEmpty();
    }

    public String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", DriftReport.SCHEMA);
        doc.put("base", base);
        doc.put("candidate", candidate);
        doc.put("drift", drift);
        doc.put("tensors", tensors);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("max_ppl_drift_percent", gates.maxPplDriftPercent());
        g.put("max_kld", gates.maxKld());
        g.put("min_top1_percent", gates.minTop1Percent());
        g.put("failed", failed);
        doc.put("gates", g);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String markdown() {
        return Markdown.of(drift, tensors, base, candidate) + (passed() ? "\ngates: pass\n" : "\ngates failed: " + String.join("; ", failed) + "\n");
    }

    /** The base's tokenizer (tokenizer.json in its folder, or a .gguf file's metadata), or null when it has none. */
    private static Tokenizer tokenizerOf(Path base) {
        if (dev.lowbit.formats.gguf.GgufFile.isGguf(base) && Files.isRegularFile(base)) {
            try {
                return Tokenizer.load(base);
            } catch (dev.lowbit.formats.FormatException e) {
                return null;
            }
        }
        Path tokenizer = base.resolve("tokenizer.json");
        return Files.isRegularFile(tokenizer) ? Tokenizer.load(tokenizer) : null;
    }

    /** report.json, report.md, report.html and tokens.arrow (each through a temp file). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        TokensArrow.write(dir.resolve("tokens.arrow"), tokens, tokenizerOf(Path.of(base)));
        String j = json(), md = markdown(), html = Html.of(this);
        AtomicFiles.write(dir.resolve("report.json"), o -> o.write(j.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("report.md"), o -> o.write(md.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.write(dir.resolve("report.html"), o -> o.write(html.getBytes(StandardCharsets.UTF_8)));
    }
}
