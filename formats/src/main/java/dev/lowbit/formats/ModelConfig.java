package dev.lowbit.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * config.json of a supported model, normalised to the numbers the inference core needs. `raw` keeps every key
 * (known or not), so a rewritten config loses nothing.
 */
public record ModelConfig(Architecture arch, int hidden, int layers, int heads, int kvHeads, int headDim, int ffn,
                          int vocab, double eps, boolean tiedEmbeddings, boolean attentionBias, int maxPositions,
                          Rope rope, ObjectNode raw) {

    /**
     * model_type of a folder in lowbit's own quantized layout: no transformers version knows it, so transformers
     * refuses the folder with this text in its error instead of loading random weights; the real model_type is kept
     * under {@link #LOWBIT_MODEL_TYPE_KEY}.
     */
    public static final String LOWBIT_MODEL_TYPE = "lowbit (lowbit's own quantized layout, which transformers cannot run: "
            + "quantize with --layout hf-bnb for transformers + bitsandbytes, or to a .gguf for llama.cpp)";
    public static final String LOWBIT_MODEL_TYPE_KEY = "lowbit_model_type";

    public static ModelConfig read(Path dir) {
        Path file = Files.isDirectory(dir) ? dir.resolve("config.json") : dir;
        if (GgufFile.isGguf(file))
            throw new FormatException(file, "a GGUF file, not safetensors: lowbit reads GGUF models in inspect, perplexity and validate, and quantizes safetensors models");
        if (!Files.isRegularFile(file)) throw new FormatException(file, "missing config.json");
        JsonNode root;
        try {
            root = JsonTree.readStrict(file);
        } catch (IOException e) {
            throw new FormatException(file, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) throw new FormatException(file, "not a JSON object");
        return parse(file, (ObjectNode) root);
    }

    public static ModelConfig parse(Path file, ObjectNode c) {
        JsonNode archs = c.get("architectures");
        String cls = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : null;
        String type = c.has(LOWBIT_MODEL_TYPE_KEY) ? c.path(LOWBIT_MODEL_TYPE_KEY).asText(null) : c.path("model_type").asText(null);
        Architecture a = Architecture.of(type, cls);
        if (a == null) throw new FormatException(file, "unknown architecture (model_type '" + type + "', architectures " + archs + "); lowbit runs gpt2, bloom, llama, mistral, qwen2");
        Fields f = new Fields(file, c);
        return switch (a) {
            case GPT2 -> {
                int h = f.req("n_embd"), n = f.req("n_head");
                yield new ModelConfig(a, h, f.req("n_layer"), n, n, f.split("n_embd", h, "n_head", n), f.opt("n_inner", 4 * h), f.req("vocab_size"),
                        f.dbl("layer_norm_epsilon", 1e-5), true, true, f.opt("n_positions", 1024), Rope.read(c), c);
            }
            case BLOOM -> {
                int h = c.has("hidden_size") ? f.req("hidden_size") : f.req("n_embed"), n = f.req("n_head");
                yield new ModelConfig(a, h, f.req("n_layer"), n, n, f.split(c.has("hidden_size") ? "hidden_size" : "n_embed", h, "n_head", n), 4 * h, f.req("vocab_size"),
                        f.dbl("layer_norm_epsilon", 1e-5), true, true, 0, Rope.read(c), c);
            }
            case LLAMA, MISTRAL, QWEN2 -> {
                int h = f.req("hidden_size"), n = f.req("num_attention_heads"), kv = f.opt("num_key_value_heads", n);
                if (n % kv != 0)
                    throw new FormatException(file, "'num_attention_heads' " + n + " is not a multiple of 'num_key_value_heads' " + kv);
                yield new ModelConfig(a, h, f.req("num_hidden_layers"), n, kv, c.hasNonNull("head_dim") ? f.req("head_dim") : f.split("hidden_size", h, "num_attention_heads", n),
                        f.req("intermediate_size"), f.req("vocab_size"), f.dbl("rms_norm_eps", 1e-6),
                        c.path("tie_word_embeddings").asBoolean(false), a == Architecture.QWEN2 || c.path("attention_bias").asBoolean(false),
                        f.opt("max_position_embeddings", 2048), Rope.read(c), c);
            }
        };
    }

    /** {@link #slidingWindow(Architecture, JsonNode, int, int)} of this model's layer. */
    public int slidingWindow(int layer) {
        return slidingWindow(arch, raw, layers, layer);
    }

    /**
     * The attention window of a layer as transformers 5 applies it, 0 for the whole context: key j is visible to query
     * i when i − j &lt; window (masking_utils.sliding_window_overlay). Mistral: sliding_window on every layer when set;
     * Qwen2: only with use_sliding_window, on the layers config.json's layer_types names "sliding_attention" (without
     * them, from max_window_layers on, as Qwen2Config derives them). Llama, GPT-2 and BLOOM have none.
     */
    public static int slidingWindow(Architecture a, JsonNode c, int layers, int layer) {
        JsonNode w = c.get("sliding_window");
        if (w == null || !w.isIntegralNumber() || w.intValue() <= 0) return 0;
        return switch (a) {
            case MISTRAL -> w.intValue();
            case QWEN2 -> {
                if (!c.path("use_sliding_window").asBoolean(false)) yield 0;
                JsonNode types = c.get("layer_types");
                boolean sliding = types != null && types.isArray() && types.size() == layers ? types.get(layer).asText().equals("sliding_attention")
                        : layer >= c.path("max_window_layers").asInt(28);
                yield sliding ? w.intValue() : 0;
            }
            default -> 0;
        };
    }

    /** The saved dtype as config.json names it (`dtype` in 5.x, `torch_dtype` in 4.x), or null. */
    public String savedDtype() {
        return raw.has("dtype") ? raw.get("dtype").asText() : raw.path("torch_dtype").asText(null);
    }

    /** Writes the (possibly rewritten) raw config, pretty printed, through a temp file and rename. */
    public static void write(ObjectNode raw, Path file) throws IOException {
        AtomicFiles.write(file, out -> JsonTree.write(out, raw));
    }

    private record Fields(Path file, ObjectNode c) {
        /** Head size hidden / heads, refused unless heads divide hidden. */
        int split(String hiddenKey, int hidden, String headsKey, int heads) {
            if (hidden % heads != 0)
                throw new FormatException(file, "'" + hiddenKey + "' " + hidden + " is not a multiple of '" + headsKey + "' " + heads);
            return hidden / heads;
        }

        int req(String key) {
            JsonNode v = c.get(key);
            if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) throw new FormatException(file, "missing or non-integer '" + key + "'");
            // Sizes and counts: 0 divided by zero (n_head) and negatives sized arrays later.
            if (v.intValue() <= 0) throw new FormatException(file, "'" + key + "' is " + v.intValue() + ", must be positive");
            return v.intValue();
        }

        int opt(String key, int dflt) {
            JsonNode v = c.get(key);
            return v == null || v.isNull() ? dflt : req(key);
        }

        double dbl(String key, double dflt) {
            JsonNode v = c.get(key);
            return v != null && v.isNumber() ? v.doubleValue() : dflt;
        }
    }
}
