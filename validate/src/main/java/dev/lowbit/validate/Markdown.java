package dev.lowbit.validate;

import dev.lowbit.validate.model.TensorDiff;
import java.util.List;
import java.util.Locale;

/** report.md: a compact summary fit to paste as a pull-request comment (also what `lowbit validate` prints). */
public final class Markdown {
    private Markdown() {}

    public static String of(Validation v) {
        DriftReport r = v.drift();
        List<TensorDiff.Row> tensors = v.tensors();
        StringBuilder s = new StringBuilder();
        s.append(f("### lowbit drift: `%s` vs `%s`%n%n", v.candidate(), v.base()));
        s.append(f("**%s** — %s%n%n", v.passed() ? "PASS" : "FAIL", v.gateLine()));
        s.append(f("%d tokens scored in %d chunks of %d%n%n", r.tokens(), r.chunks(), r.ctx()));
        s.append("| metric | value |\n|---|---|\n");
        s.append(f("| ppl base | %.4f ± %.4f |%n", r.base().ppl(), r.base().pplError()));
        s.append(f("| ppl candidate | %.4f ± %.4f |%n", r.candidate().ppl(), r.candidate().pplError()));
        s.append(f("| Δppl | %+.4f (%+.3f%%) |%n", r.deltaPpl(), r.deltaPplPercent()));
        s.append(f("| ln(ppl ratio) | %.6f ± %.6f |%n", r.lnPplRatio().mean(), r.lnPplRatio().error()));
        s.append(f("| mean KLD | %.6f ± %.6f |%n", r.kld().mean(), r.kld().error()));
        s.append(f("| KLD 99.9%% / 99%% / median | %.6f / %.6f / %.6f |%n", r.kldPercentiles().get("99.9"), r.kldPercentiles().get("99"), r.kldPercentiles().get("median")));
        s.append(f("| Δp mean ± / RMS | %+.4f%% ± %.4f%% / %.4f%% |%n", 100 * r.deltaP().mean(), 100 * r.deltaP().error(), 100 * r.deltaPRms()));
        s.append(f("| Δp 1%% / median / 99%% | %+.4f%% / %+.4f%% / %+.4f%% |%n", 100 * r.deltaPPercentiles().get("1"), 100 * r.deltaPPercentiles().get("median"), 100 * r.deltaPPercentiles().get("99")));
        s.append(f("| same top-1 | %.3f%% |%n", r.sameTop1Percent()));
        Continuations co = v.continuations();
        if (co != null && !co.prompts().isEmpty())
            s.append(f("| greedy continuations: first differing token, mean | %.1f of %d (%d of %d identical) |%n", co.meanFirstDiff(), co.newTokens(), co.identical(), co.prompts().size()));
        if (!tensors.isEmpty()) {
            s.append("\n<details><summary>per-tensor error</summary>\n\n| tensor | format | rmse | snr dB | rel err |\n|---|---|---|---|---|\n");
            for (TensorDiff.Row t : tensors)
                s.append(t.error().relFrobenius() == 0 ? f("| %s | %s | 0 | exact | 0 |%n", t.name(), t.format())
                        : f("| %s | %s | %.3g | %.2f | %.5f |%n", t.name(), t.format(), t.error().rmse(), t.error().snrDb(), t.error().relFrobenius()));
            s.append("\n</details>\n");
        }
        if (v.continuations() != null) continuations(s, v.continuations());
        s.append("\n<details><summary>per chunk</summary>\n\n| chunk | ppl base | ppl candidate | mean KLD | same top-1 |\n|---|---|---|---|---|\n");
        for (DriftReport.Chunk c : r.perChunk())
            s.append(f("| %d | %.4f | %.4f | %.6f | %.2f%% |%n", c.chunk(), c.pplBase(), c.pplCandidate(), c.meanKld(), c.sameTop1Percent()));
        s.append("\n</details>\n");
        return s.append(v.passed() ? "\ngates: pass\n" : "\ngates failed: " + String.join("; ", v.failed()) + "\n").toString();
    }

    /** Greedy continuations side by side: the mean agreement first, then one row per prompt. */
    private static void continuations(StringBuilder s, Continuations c) {
        s.append(f("%n#### Continuations (greedy, %d new tokens)%n%n", c.newTokens()));
        s.append(f("**first differing token, mean over %d prompts: %s of %d** (%d identical)%n%n", c.prompts().size(),
                Double.isNaN(c.meanFirstDiff()) ? "n/a" : f("%.1f", c.meanFirstDiff()), c.newTokens(), c.identical()));
        s.append("| prompt | base | candidate | first diff |\n|---|---|---|---|\n");
        for (Continuations.Item i : c.prompts())
            s.append(f("| %s | %s | %s | %s |%n", cell(i.prompt()), cell(i.baseText()), cell(i.candidateText()), i.same() ? "identical" : "token " + i.agree()));
    }

    /** Text in a table cell: pipes escaped, line breaks as ⏎. */
    private static String cell(String t) {
        return t.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "⏎").replace("\t", " ").replace("<", "&lt;");
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }
}
