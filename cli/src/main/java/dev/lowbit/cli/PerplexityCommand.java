package dev.lowbit.cli;

import dev.lowbit.validate.Perplexity;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit perplexity MODEL --text wiki.test.raw --ctx 512", "  lowbit perplexity MODEL --ids tokens.i32 --max-chunks 20 --json"},
        name = "perplexity", description = "Perplexity of a model over a text, chunked as the reference method.")
final class PerplexityCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Model folder (config.json, tokenizer.json, safetensors) or a .gguf file.")
    Path model;

    @Mixin
    EvalInput input;

    @Option(names = "--alibi-slope-scale", paramLabel = "S", description = "Multiply ALiBi slopes for this run (BLOOM), as lowbit_alibi_slope_scale in config.json would.")
    Double alibiSlopeScale;

    @Option(names = "--int8-runtime", description = "How an hf-bnb int8 folder runs: bitsandbytes (default: activations quantized per token, "
            + "outlier columns above llm_int8_threshold in float, as transformers + bitsandbytes compute) or weights (int8 weights, float activations).")
    String int8Runtime;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        var overrides = new HashMap<String, Object>();
        if (alibiSlopeScale != null) overrides.put(Transformer.ALIBI_SCALE_KEY, alibiSlopeScale);
        if (int8Runtime != null) overrides.put(Transformer.INT8_RUNTIME_KEY, int8Runtime);
        input.check();
        Warnings.print(spec.commandLine().getErr(), Checks.context(model, input.ctx));
        try (Transformer t = Transformer.open(model, overrides)) {
            int[] ids = input.ids(model);
            int chunks = Perplexity.chunks(ids.length, input.ctx, input.maxChunks);
            Progress bar = Progress.start("perplexity", chunks, !json);
            Perplexity.Result r;
            try {
                r = Perplexity.run(t, ids, input.ctx, input.maxChunks, bar::update);
            } finally {
                bar.done();
            }
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("model", model.toString());
                if (input.file() != null) m.put("input", input.file().toString());
                m.put("ctx", r.ctx());
                m.put("chunks", r.chunkNll().length);
                m.put("scored_tokens", r.scored());
                m.put("nll_sum", r.nllSum());
                m.put("ppl", r.ppl());
                m.put("ppl_stderr", r.pplError());
                m.put("tokens_per_second", r.tokensPerSecond());
                m.put("chunk_nll", r.chunkNll());
                out.println(Json.pretty(m));
            } else {
                out.printf(Locale.ROOT, "ppl %.4f ± %.4f over %,d tokens (%d %s of %d), %.1f tokens/s%n",
                        r.ppl(), r.pplError(), r.scored(), r.chunkNll().length, r.chunkNll().length == 1 ? "chunk" : "chunks", r.ctx(), r.tokensPerSecond());
            }
        }
        return 0;
    }
}
