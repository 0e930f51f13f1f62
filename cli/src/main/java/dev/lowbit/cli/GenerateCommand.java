package dev.lowbit.cli;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.validate.generate.GenerationConfig;
import dev.lowbit.validate.generate.Generator;
import dev.lowbit.validate.generate.TextStream;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue a prompt with a model: greedy, sampled or beam search decoding with transformers' semantics, over a KV cache.",
                "The continuation streams to stdout as it is generated; prompt and generation speed go to stderr at the end.",
                "Defaults come from the model's generation_config.json as transformers reads it (greedy unless do_sample; "
                        + GenerationConfig.DEFAULT_MAX_NEW_TOKENS + " new tokens unless max_new_tokens or max_length is set); options override them."},
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit generate MODEL --prompt \"The meaning of life is\"",
                "  lowbit generate model.gguf --prompt-file prompt.txt --max-new-tokens 256 -t 4",
                "  lowbit generate MODEL --prompt \"Once upon a time\" --sample --top-p 0.95 \\",
                "      --seed 42",
                "  lowbit generate MODEL --prompt \"Translate:\" --num-beams 4 --length-penalty 1.2",
                "  lowbit generate OUT-nf4 --prompt \"Hello\" --json     ids, text and timings",
                "  lowbit generate MODEL --prompt \"Hello\" --no-cache   recompute every step"})
final class GenerateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Model folder (HF, lowbit-quantized or hf-bnb) or a .gguf file.")
    Path model;

    static final class PromptSource {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "The text to continue (tokenized with the model's special tokens, e.g. BOS, as transformers does).")
        String text;

        @Option(names = "--prompt-file", paramLabel = "FILE", description = "Read the prompt from a UTF-8 file instead.")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource prompt;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Stop after N new tokens (default: the model's generation_config.json, else "
            + GenerationConfig.DEFAULT_MAX_NEW_TOKENS + ").")
    Integer maxNewTokens;

    @Option(names = "--sample", description = "Sample from the filtered softmax (do_sample) instead of the model's default.")
    boolean sample;

    @Option(names = "--greedy", description = "Greedy decoding even if the model's generation_config.json samples.")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "Divide the logits by T before sampling (needs sampling).")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens, 0 for all (needs sampling; transformers' default is 50).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling: the most likely tokens whose probabilities reach P (needs sampling).")
    Double topP;

    @Option(names = "--min-p", paramLabel = "P", description = "Drop tokens less likely than P times the most likely one (needs sampling).")
    Double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Divide positive / multiply negative logits of tokens already in the sequence by R (> 1 discourages repeats).")
    Double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the sampler: the same seed gives the same text (default: a random seed, printed at the end).")
    Long seed;

    @Option(names = "--num-beams", paramLabel = "N", description = "Beam search with N beams (greedy only; the best beam is printed when done).")
    Integer numBeams;

    @Option(names = "--length-penalty", paramLabel = "L", description = "Beam search: finished beams score sum(log p) / length^L (default 1).")
    Double lengthPenalty;

    @Option(names = "--early-stopping", paramLabel = "WHEN", description = "Beam search: true (stop when N beams finished), false (transformers' heuristic, default) or never.")
    String earlyStopping;

    @Option(names = "--no-cache", description = "Recompute the whole sequence at every step instead of using the KV cache (slow; for checking the cache).")
    boolean noCache;

    @Option(names = "--int8-runtime", paramLabel = "MODE", description = "How an hf-bnb int8 folder runs: bitsandbytes (default) or weights (int8 weights, float activations).")
    String int8Runtime;

    @Option(names = "--json", description = "Print JSON for machines (prompt and generated ids, text, timings) instead of streaming text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        String text = prompt.text != null ? prompt.text : EvalInput.readText(prompt.file, "--prompt-file");
        Tokenizer tok = Tokenizer.load(model);
        int[] ids = tok.encode(text, true);
        if (ids.length == 0) throw new IllegalArgumentException("the prompt is empty: it has no tokens");
        GenerationConfig cfg = settings(GenerationConfig.of(model, ids.length));
        Map<String, Object> overrides = new HashMap<>();
        if (int8Runtime != null) overrides.put(Transformer.INT8_RUNTIME_KEY, int8Runtime);
        try (Transformer t = Transformer.open(model, overrides)) {
            TextStream stream = new TextStream(tok, ids);
            StringBuilder all = new StringBuilder();
            Generator.Result r = new Generator(t, cfg, !noCache).generate(ids, id -> {
                if (cfg.isEos(id)) return;
                String piece = stream.push(id);
                all.append(piece);
                if (!json && !piece.isEmpty()) {
                    out.print(piece);
                    out.flush();
                }
            });
            String rest = stream.finish();
            all.append(rest);
            if (json) {
                out.println(Json.pretty(report(cfg, r, text, all.toString())));
                return 0;
            }
            out.println(rest);
            out.flush();
            if (!Main.quiet) {
                err.printf(Locale.ROOT, "prompt %d tokens, %.1f tok/s; generated %d tokens, %.1f tok/s (%s, %s%s, %d threads)%s%n",
                        ids.length, r.promptTokensPerSecond(), r.generated().length, r.decodeTokensPerSecond(),
                        r.stoppedAtEos() ? "stopped at EOS" : "token budget reached",
                        noCache ? "no cache" : "KV cache " + Units.bytes(r.cacheBytes()),
                        cfg.numBeams() > 1 ? ", " + cfg.numBeams() + " beams" : "", Kernels.threads(),
                        cfg.doSample() ? ", seed " + cfg.seed() : "");
            }
        }
        return 0;
    }

    /** The model's defaults with the options given; options that would do nothing are refused. */
    GenerationConfig settings(GenerationConfig d) {
        if (sample && greedy) throw new IllegalArgumentException("--sample and --greedy contradict each other");
        boolean doSample = sample || (!greedy && d.doSample());
        int beams = numBeams != null ? numBeams : d.numBeams();
        List<String> samplingOnly = new ArrayList<>();
        if (temperature != null) samplingOnly.add("--temperature");
        if (topK != null) samplingOnly.add("--top-k");
        if (topP != null) samplingOnly.add("--top-p");
        if (minP != null) samplingOnly.add("--min-p");
        if (seed != null) samplingOnly.add("--seed");
        if (!doSample && !samplingOnly.isEmpty())
            throw new IllegalArgumentException(String.join(", ", samplingOnly) + " only act when sampling: add --sample (decoding is greedy"
                    + (greedy ? "" : ": the model's generation_config.json does not set do_sample") + ")");
        if (doSample && beams > 1)
            throw new IllegalArgumentException("beam search with sampling is not supported: drop --num-beams" + (sample ? " or --sample" : " or add --greedy"));
        if (beams <= 1 && (lengthPenalty != null || earlyStopping != null))
            throw new IllegalArgumentException((lengthPenalty != null ? "--length-penalty" : "--early-stopping") + " only acts in beam search: add --num-beams N (N > 1)");
        long s = seed != null ? seed : new SecureRandom().nextLong();
        return new GenerationConfig(maxNewTokens != null ? maxNewTokens : d.maxNewTokens(), doSample,
                temperature != null ? temperature : d.temperature(), topK != null ? topK : d.topK(), topP != null ? topP : d.topP(),
                minP != null ? minP : d.minP(), repetitionPenalty != null ? repetitionPenalty : d.repetitionPenalty(), beams,
                lengthPenalty != null ? lengthPenalty : d.lengthPenalty(), earlyStopping != null ? earlyStopping.toLowerCase(Locale.ROOT) : d.earlyStopping(),
                d.eosIds(), s);
    }

    private Map<String, Object> report(GenerationConfig cfg, Generator.Result r, String text, String continuation) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.toString());
        m.put("prompt", text);
        m.put("prompt_ids", r.prompt());
        m.put("generated_ids", r.generated());
        m.put("text", continuation);
        m.put("stop", r.stoppedAtEos() ? "eos" : "max_new_tokens");
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("max_new_tokens", cfg.maxNewTokens());
        s.put("do_sample", cfg.doSample());
        if (cfg.doSample()) {
            s.put("temperature", cfg.temperature());
            s.put("top_k", cfg.topK());
            s.put("top_p", cfg.topP());
            s.put("min_p", cfg.minP());
            s.put("seed", cfg.seed());
        }
        s.put("repetition_penalty", cfg.repetitionPenalty());
        s.put("num_beams", cfg.numBeams());
        if (cfg.numBeams() > 1) {
            s.put("length_penalty", cfg.lengthPenalty());
            s.put("early_stopping", cfg.earlyStopping());
        }
        s.put("eos_token_ids", cfg.eosIds());
        s.put("kv_cache", !noCache);
        m.put("settings", s);
        Map<String, Object> tm = new LinkedHashMap<>();
        tm.put("threads", Kernels.threads());
        tm.put("prefill_seconds", r.prefillNanos() / 1e9);
        tm.put("prompt_tokens_per_second", r.promptTokensPerSecond());
        tm.put("decode_steps", r.decodeSteps());
        tm.put("decode_seconds", r.decodeNanos() / 1e9);
        tm.put("decode_tokens_per_second", r.decodeSteps() == 0 ? null : r.decodeTokensPerSecond());
        tm.put("kv_cache_bytes", r.cacheBytes());
        m.put("timings", tm);
        return m;
    }
}
