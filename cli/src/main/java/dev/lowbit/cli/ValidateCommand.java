package dev.lowbit.cli;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.lora.LoraAdapter;
import dev.lowbit.validate.Convert;
import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.Validation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "validate",
        description = {"Run a base and a candidate model over the same text and report the drift: ppl of each, KL divergence, Δp, same top-1, per chunk "
                + "and per tensor. Prints a summary; the full report goes to files.",
                "Exit codes: 0 pass, 1 a gate failed (named on the last line of stderr), 2 bad input."},
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit validate MODEL MODEL-nf4 --text wiki.test.raw",
                "  lowbit validate MODEL MODEL-nf4 --text wiki.test.raw --max-ppl-drift 1 \\",
                "      --max-kld 0.01 --report ci-report",
                "  lowbit validate MODEL MODEL-nf4 --ids tokens.i32 --markdown \\",
                "      >> $GITHUB_STEP_SUMMARY"})
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE", description = "The reference model folder (usually the original).")
    Path base;

    @Parameters(index = "1", paramLabel = "CANDIDATE", description = "The model folder to judge (usually the quantized or rewritten one).")
    Path candidate;

    @Mixin
    EvalInput input;

    @Mixin
    GateOptions gate;

    @Mixin
    ContinuationOptions continuations;

    @Option(names = "--lora", paramLabel = "ADAPTER[:WEIGHT]", description = "Merge these PEFT LoRA adapters into CANDIDATE first (float32): "
            + "`validate BASE BASE --lora A` shows what the fine-tune changed.")
    List<String> lora = new ArrayList<>();

    @Option(names = "--report", paramLabel = "DIR",
            description = "Folder for report.json, report.md, report.html and tokens.arrow (default: CANDIDATE-report beside CANDIDATE).")
    Path report;

    @Option(names = "--json", description = "Print report.json's content on stdout instead of the summary.")
    boolean json;

    @Option(names = "--markdown", description = "Print report.md (the full Markdown report) on stdout instead of the summary.")
    boolean markdown;

    @Option(names = "--allow-tokenizer-mismatch", description = "Compare models whose tokenizers differ (refused by default: the candidate is scored on the base's token ids).")
    boolean allowTokenizerMismatch;

    @Spec
    CommandSpec spec;

    static final int EXIT_GATE = 1;

    @Override
    public Integer call() throws Exception {
        input.check();
        if (json && markdown) throw new IllegalArgumentException("--json and --markdown both print the report: choose one");
        Path dir = report != null ? report : defaultReport(candidate);
        List<LoraAdapter> adapters = lo(lora); // read (or refused) before anything starts
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new IllegalArgumentException("--report " + dir + ": exists and is not a folder (the report is a folder of report.json, report.md, report.html, tokens.arrow)");
        List<String> warn = new ArrayList<>(Checks.sameVocabulary(base, candidate, allowTokenizerMismatch));
        warn.addAll(Checks.context(base, input.ctx));
        Warnings.print(spec.commandLine().getErr(), warn);
        int[] ids = input.ids(base);
        var cont = continuations.request(input, base);
        Progress bar = Progress.start("validate", Perplexity.chunks(ids.length, input.ctx, input.maxChunks), !json && !markdown);
        Path cand = candidate, merged = null;
        Validation v;
        try {
            if (!adapters.isEmpty()) {
                merged = Files.createTempDirectory("lowbit-merge-").resolve("merged");
                Quantizer.merge(candidate, merged, adapters, DType.F32, null);
                cand = merged;
            }
            v = Validation.run(base, cand, ids, input.ctx, input.maxChunks, gate.gates(), bar::update, cont).withText(input.file());
            if (merged != null) v = v.relabel(Convert.loraLabel(candidate, adapters));
        } finally {
            bar.done();
            if (merged != null) OutputDir.deleteTree(merged.getParent());
        }
        v.write(dir);
        var out = spec.commandLine().getOut();
        if (json) out.println(v.json());
        else if (markdown) out.print(v.markdown());
        else out.print(summary(v, dir));
        out.flush();
        if (!v.passed()) {
            spec.commandLine().getErr().println("lowbit: gate failed: " + String.join("; ", v.failed()));
            return EXIT_GATE;
        }
        return 0;
    }

    static Path defaultReport(Path model) {
        Path abs = model.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + "-report");
    }

    /** A few lines for the terminal: verdict, the headline numbers, the gates, where the report is. */
    static String summary(Validation v, Path dir) {
        var d = v.drift();
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s  %s vs %s%n", v.passed() ? "PASS" : "FAIL", v.candidate(), v.base()));
        s.append(String.format(Locale.ROOT, "      ppl %.4f ± %.4f → %.4f ± %.4f (%+.3f%%), mean KLD %.6f ± %.6f, same top-1 %.2f%%%n",
                d.base().ppl(), d.base().pplError(), d.candidate().ppl(), d.candidate().pplError(), d.deltaPplPercent(), d.kld().mean(),
                d.kld().error(), d.sameTop1Percent()));
        s.append(String.format(Locale.ROOT, "      %,d tokens in %d chunks of %d; gates: %s%n", d.tokens(), d.chunks(), d.ctx(), v.gateLine()));
        var c = v.continuations();
        if (c != null && !c.prompts().isEmpty())
            s.append(String.format(Locale.ROOT, "      greedy continuations agree for %.1f of %d tokens on average before the first difference (%d of %d prompts identical)%n",
                    c.meanFirstDiff(), c.newTokens(), c.identical(), c.prompts().size()));
        s.append("      report ").append(dir.resolve("report.html")).append(" (and report.md, report.json, tokens.arrow, tokens.csv.gz)\n");
        return s.toString();
    }

    private static List<LoraAdapter> lo(List<String> specs) {
        LoraOptions lo = new LoraOptions();
        lo.specs.addAll(specs);
        return lo.adapters();
    }
}
