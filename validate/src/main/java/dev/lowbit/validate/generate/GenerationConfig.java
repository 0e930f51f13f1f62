package dev.lowbit.validate.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * How to decode, with transformers' meanings: greedy unless doSample; the sampling warpers (temperature, topK, topP,
 * minP) apply only when sampling; repetitionPenalty &gt; 1 discourages tokens already in the sequence; numBeams &gt; 1 is
 * beam search with lengthPenalty and earlyStopping ("true", "false" or "never"). topK 0, topP 1, minP 0 and
 * temperature 1 switch that step off. Generation stops at an id of eosIds or after maxNewTokens.
 */
public record GenerationConfig(int maxNewTokens, boolean doSample, double temperature, int topK, double topP, double minP,
                               double repetitionPenalty, int numBeams, double lengthPenalty, String earlyStopping,
                               int[] eosIds, long seed) {
    /** New tokens when the model's generation_config.json sets neither max_new_tokens nor max_length. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 128;

    public GenerationConfig {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, not " + maxNewTokens);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be above 0, not " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be 0 (off) or more, not " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], not " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], not " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be above 0, not " + repetitionPenalty);
        if (numBeams < 1) throw new IllegalArgumentException("num beams must be at least 1, not " + numBeams);
        if (!Arrays.asList("true", "false", "never").contains(earlyStopping))
            throw new IllegalArgumentException("early stopping must be true, false or never, not '" + earlyStopping + "'");
        eosIds = eosIds.clone();
    }

    /** transformers' defaults (GenerationConfig._get_default_generation_params) with greedy decoding and no EOS. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(DEFAULT_MAX_NEW_TOKENS, false, 1.0, 50, 1.0, 0.0, 1.0, 1, 1.0, "false", new int[0], 0);
    }

    /**
     * The model's defaults as transformers reads them: generation_config.json over transformers' defaults, EOS ids from
     * it or else from config.json (an int or a list); for a .gguf file, tokenizer.ggml.eos_token_id. max_length
     * (prompt included) is turned into new tokens for promptLength.
     */
    public static GenerationConfig of(Path model, int promptLength) {
        GenerationConfig d = defaults();
        if (GgufFile.isGguf(model) && Files.isRegularFile(model)) {
            try (Arena arena = Arena.ofConfined()) {
                Long eos = GgufFile.open(model, arena).integer("tokenizer.ggml.eos_token_id");
                return d.withEos(eos == null ? new int[0] : new int[] {eos.intValue()});
            }
        }
        Path gen = model.resolve("generation_config.json"), cfg = model.resolve("config.json");
        JsonNode g = Files.isRegularFile(gen) ? read(gen) : null, c = Files.isRegularFile(cfg) ? read(cfg) : null;
        JsonNode src = g != null ? g : c;
        if (src == null) return d;
        Path file = g != null ? gen : cfg;
        int maxNew = d.maxNewTokens;
        if (src.hasNonNull("max_new_tokens")) maxNew = src.get("max_new_tokens").asInt();
        else if (src.hasNonNull("max_length") && g != null) maxNew = Math.max(1, src.get("max_length").asInt() - promptLength);
        JsonNode eos = src.hasNonNull("eos_token_id") ? src.get("eos_token_id") : c == null ? null : c.get("eos_token_id");
        int[] eosIds = new int[0];
        if (eos != null && eos.isArray()) {
            eosIds = new int[eos.size()];
            for (int i = 0; i < eosIds.length; i++) eosIds[i] = eos.get(i).asInt();
        } else if (eos != null && eos.isIntegralNumber()) eosIds = new int[] {eos.asInt()};
        JsonNode es = src.get("early_stopping");
        try {
            return new GenerationConfig(maxNew, src.path("do_sample").asBoolean(d.doSample), num(src, "temperature", d.temperature),
                    (int) num(src, "top_k", d.topK), num(src, "top_p", d.topP), num(src, "min_p", d.minP),
                    num(src, "repetition_penalty", d.repetitionPenalty), (int) num(src, "num_beams", d.numBeams),
                    num(src, "length_penalty", d.lengthPenalty), es == null || es.isNull() ? d.earlyStopping : es.asText(), eosIds, d.seed);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    private static double num(JsonNode n, String key, double dflt) {
        return n.hasNonNull(key) && n.get(key).isNumber() ? n.get(key).asDouble() : dflt;
    }

    private static JsonNode read(Path f) {
        try {
            return JsonTree.read(f);
        } catch (IOException e) {
            throw new FormatException(f, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public GenerationConfig withEos(int[] ids) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, minP, repetitionPenalty, numBeams, lengthPenalty, earlyStopping, ids, seed);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, doSample, temperature, topK, topP, minP, repetitionPenalty, numBeams, lengthPenalty, earlyStopping, eosIds, seed);
    }

    public GenerationConfig greedy() {
        return new GenerationConfig(maxNewTokens, false, temperature, topK, topP, minP, repetitionPenalty, 1, lengthPenalty, earlyStopping, eosIds, seed);
    }

    public boolean isEos(int id) {
        for (int e : eosIds) if (e == id) return true;
        return false;
    }

    @Override
    public int[] eosIds() {
        return eosIds.clone();
    }
}
