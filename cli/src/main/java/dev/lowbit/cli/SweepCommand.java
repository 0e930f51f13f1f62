package dev.lowbit.cli;

import dev.lowbit.quantizers.gptq.Gptq;
import dev.lowbit.quantizers.gptq.GptqEncoder;
import dev.lowbit.validate.Perplexity;
import java.nio.file.Files;
import dev.lowbit.validate.sweep.Sweep;
import dev.lowbit.validate.sweep.SweepRecipe;
import dev.lowbit.validate.sweep.SweepReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "sweep",
        description = {"Quantize a model with each recipe, validate every result against the original over the same chunks (lowbit's engine is the "
                + "judge; embeddings and lm_head stay in float for every candidate), and write one report: sweep.html (bits per weight vs mean KLD "
                + "with the Pareto front), sweep.md (the table) and sweep.json.",
                "Quantized models are made in a hidden staging folder beside the report folder and removed at the end (also on Ctrl-C)."},
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit sweep MODEL --schemes nf4,nf4+dq,int4,Q4_0,Q4_K_M,IQ4_NL,IQ4_XS \\",
                "      --text eval.txt --ctx 128 --max-chunks 100 -o sweep",
                "  lowbit sweep MODEL --schemes IQ4_NL --text eval.txt -o sweep \\",
                "      --candidates ref/model-IQ4_NL.gguf ref/model-Q4_0.gguf",
                "  lowbit sweep MODEL --schemes nf4,nf4+gptq --calibrate calib.txt \\",
                "      --text eval.txt --ctx 128 --max-chunks 100 -o sweep"})
final class SweepCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "The original model folder (Hugging Face safetensors): every recipe starts from it and is judged against it.")
    Path model;

    @Option(names = "--schemes", split = ",", paramLabel = "S", description = "Recipes, comma-separated: lowbit schemes (nf4, fp4, int4, int4-asym, "
            + "int8, int8-block; +dq for double quant: nf4+dq) and llama.cpp file types written by lowbit (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, IQ4_XS, "
            + "Q2_K, Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M, Q6_K); +gptq: GPTQ on --calibrate's statistics.")
    List<String> schemes = new ArrayList<>();

    @Option(names = "--candidates", arity = "1..*", paramLabel = "FILE.gguf", description = "GGUF files made elsewhere (e.g. llama-quantize) to judge as they are.")
    List<Path> candidates = new ArrayList<>();

    @Mixin
    EvalInput input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Folder for sweep.html, sweep.md and sweep.json (created if needed).")
    Path out;

    @Option(names = "--calibrate", paramLabel = "TEXT", description = "Calibrate on this UTF-8 text first (never the evaluation text), collecting each linear "
            + "layer's input statistics XᵀX for the +gptq recipes.")
    Path calibrate;

    @Option(names = "--calib-ctx", paramLabel = "N", description = "Tokens per calibration chunk (default 512, as llama-imatrix).")
    Integer calibCtx;

    @Option(names = "--gptq", description = "Add a GPTQ row (+gptq) for every scheme given (needs --calibrate).")
    boolean gptq;

    @Option(names = "--gptq-damp", paramLabel = "F", description = "GPTQ dampening: this fraction of the mean diagonal of XᵀX is added to it (default 0.01).")
    Double gptqDamp;

    @Option(names = "--keep", paramLabel = "DIR", description = "Keep every quantized model in DIR (a folder per lowbit scheme, RECIPE.gguf per llama.cpp type) instead of deleting it.")
    Path keep;

    @Option(names = "--json", description = "Print sweep.json's content on stdout instead of the table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        input.check();
        List<SweepRecipe> recipes = new ArrayList<>();
        for (String s : schemes) recipes.add(SweepRecipe.parse(s));
        if (gptq) for (String s : schemes) if (!SweepRecipe.parse(s).gptq()) recipes.add(SweepRecipe.parse(s + "+gptq"));
        boolean wantsGptq = recipes.stream().anyMatch(SweepRecipe::gptq);
        if (wantsGptq && calibrate == null) throw new IllegalArgumentException("GPTQ (+gptq, --gptq) needs calibration text: --calibrate TEXT");
        if (calibrate != null && !wantsGptq) throw new IllegalArgumentException("--calibrate: no recipe uses it (add +gptq to a scheme, or --gptq)");
        if (calibrate != null && input.file() != null && calibrate.toAbsolutePath().normalize().equals(input.file().toAbsolutePath().normalize()))
            throw new IllegalArgumentException("--calibrate " + calibrate + ": the same file as the evaluation text; calibrate and evaluate on different texts");
        if (calibCtx != null && calibrate == null) throw new IllegalArgumentException("--calib-ctx without --calibrate means nothing");
        if (gptqDamp != null && !wantsGptq) throw new IllegalArgumentException("--gptq-damp: no recipe uses GPTQ (add +gptq to a scheme, or --gptq)");
        if (calibCtx == null) calibCtx = 512;
        if (calibCtx < 2) throw new IllegalArgumentException("--calib-ctx must be at least 2 tokens, not " + calibCtx);
        Gptq.Options options = new Gptq.Options(gptqDamp != null ? gptqDamp : Gptq.Options.DEFAULT.damp(), Gptq.Options.DEFAULT.batch());
        for (Path c : candidates) {
            EvalInput.requireFile(c, "--candidates");
            recipes.add(SweepRecipe.candidate(c));
        }
        if (recipes.isEmpty()) throw new IllegalArgumentException("nothing to sweep: give --schemes and/or --candidates");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("-o " + out + ": exists and is not a folder");
        int[] ids = input.ids(model);
        int chunks = Perplexity.chunks(ids.length, input.ctx, input.maxChunks);
        boolean people = !json;
        Progress[] bar = {null};
        Sweep.Listener listener = new Sweep.Listener() {
            public void recipe(int index, int total, String label) {
                if (bar[0] != null) bar[0].done();
                bar[0] = Progress.start(String.format(Locale.ROOT, "sweep %d/%d %s", index + 1, total, label), chunks, people);
            }

            public void chunks(int done) {
                if (bar[0] != null) bar[0].update(done);
            }
        };
        List<Sweep.Row> rows;
        try (Cleanup _ = Cleanup.guard(out)) {
            var encoder = calibrate == null ? null : new GptqEncoder(GptqOptions.calibrate(model, calibrate, calibCtx, !json), options);
            rows = Sweep.run(model, recipes, ids, input.ctx, input.maxChunks, encoder, listener, out, keep);
        } finally {
            if (bar[0] != null) bar[0].done();
        }
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("model", model.toString());
        in.put("text", input.file().toString());
        in.put("tokens", ids.length);
        in.put("ctx", input.ctx);
        in.put("max_chunks", input.maxChunks);
        if (calibrate != null) {
            in.put("calibration_text", calibrate.toString());
            in.put("calibration_ctx", calibCtx);
            in.put("gptq_damp", options.damp());
        }
        SweepReport report = new SweepReport(rows, in);
        report.write(out);
        var o = spec.commandLine().getOut();
        if (json) o.println(report.json());
        else {
            o.print(report.markdown());
            o.println("report " + out.resolve("sweep.html") + " (and sweep.md, sweep.json)");
        }
        o.flush();
        return 0;
    }
}
