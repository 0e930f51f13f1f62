package dev.lowbit.formats.gguf;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.ModelConfig;
import java.util.Set;

/**
 * A Hugging Face style config.json synthesized from a GGUF file's metadata (llama, qwen2, gpt2, bloom), so that the
 * rest of lowbit sees a GGUF model as it sees a model folder. Llama's q/k rows are in the interleaved RoPE layout in
 * GGUF (llama.cpp's converter permutes them): the config says so with {@code lowbit_rope_layout: interleaved}.
 */
public final class GgufConfig {
    private GgufConfig() {}

    public static final String ROPE_LAYOUT_KEY = "lowbit_rope_layout";

    public static ModelConfig parse(GgufFile f) {
        return ModelConfig.parse(f.path(), of(f));
    }

    public static ObjectNode of(GgufFile f) {
        String arch = f.string("general.architecture");
        if (arch == null) throw new FormatException(f.path(), "no general.architecture in the metadata");
        if (!Set.of("llama", "qwen2", "gpt2", "bloom").contains(arch))
            throw new FormatException(f.path(), "unknown architecture '" + arch + "' in general.architecture; lowbit runs GGUF llama, qwen2, gpt2, bloom");
        Keys k = new Keys(f, arch + ".");
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        int hidden = k.req("embedding_length"), layers = k.req("block_count"), heads = k.req("attention.head_count");
        int vocab = vocab(f, arch);
        switch (arch) {
            case "llama", "qwen2" -> {
                boolean qwen = arch.equals("qwen2");
                c.put("model_type", arch);
                c.putArray("architectures").add(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
                c.put("hidden_size", hidden);
                c.put("num_hidden_layers", layers);
                c.put("num_attention_heads", heads);
                c.put("num_key_value_heads", k.opt("attention.head_count_kv", heads));
                int headDim = k.opt("attention.key_length", hidden / heads);
                c.put("head_dim", headDim);
                c.put("intermediate_size", k.req("feed_forward_length"));
                c.put("vocab_size", vocab);
                c.put("rms_norm_eps", k.f32("attention.layer_norm_rms_epsilon", 1e-6));
                c.put("max_position_embeddings", k.opt("context_length", 2048));
                c.put("tie_word_embeddings", f.tensor("output.weight") == null);
                ObjectNode rope = c.putObject("rope_parameters");
                double theta = k.f32("rope.freq_base", 10000.0);
                rope.put("rope_theta", theta);
                c.put("rope_theta", theta);
                int rotary = k.opt("rope.dimension_count", headDim);
                if (rotary != headDim) {
                    c.put("partial_rotary_factor", (double) rotary / headDim);
                    rope.put("partial_rotary_factor", (double) rotary / headDim);
                }
                ropeScaling(f, k, rope);
                if (!qwen) c.put(ROPE_LAYOUT_KEY, "interleaved");
            }
            case "gpt2" -> {
                c.put("model_type", "gpt2");
                c.putArray("architectures").add("GPT2LMHeadModel");
                c.put("n_embd", hidden);
                c.put("n_layer", layers);
                c.put("n_head", heads);
                c.put("n_inner", k.req("feed_forward_length"));
                c.put("vocab_size", vocab);
                c.put("layer_norm_epsilon", k.f32("attention.layer_norm_epsilon", 1e-5));
                GgufTensor pos = f.tensor("position_embd.weight");
                c.put("n_positions", pos != null && pos.dims().length == 2 ? (int) pos.dims()[1] : k.req("context_length"));
            }
            case "bloom" -> {
                int ffn = k.opt("feed_forward_length", 4 * hidden);
                if (ffn != 4 * hidden) throw new FormatException(f.path(), "bloom.feed_forward_length " + ffn + " is not 4 x embedding_length as BLOOM needs");
                int kv = k.opt("attention.head_count_kv", heads);
                if (kv != heads) throw new FormatException(f.path(), "bloom.attention.head_count_kv " + kv + " differs from head_count " + heads);
                c.put("model_type", "bloom");
                c.putArray("architectures").add("BloomForCausalLM");
                c.put("hidden_size", hidden);
                c.put("n_layer", layers);
                c.put("n_head", heads);
                c.put("vocab_size", vocab);
                c.put("layer_norm_epsilon", k.f32("attention.layer_norm_epsilon", 1e-5));
            }
            default -> throw new IllegalStateException(arch);
        }
        String name = f.string("general.name");
        if (name != null) c.put("_name_or_path", name);
        c.put("lowbit_source", "gguf");
        return c;
    }

    /** The vocabulary: rows of token_embd, else {arch}.vocab_size, else the token list. */
    private static int vocab(GgufFile f, String arch) {
        GgufTensor e = f.tensor("token_embd.weight");
        if (e != null && e.dims().length == 2) return (int) e.dims()[1];
        Long v = f.integer(arch + ".vocab_size");
        if (v != null) return v.intValue();
        var tokens = f.array("tokenizer.ggml.tokens");
        if (tokens != null) return tokens.size();
        throw new FormatException(f.path(), "cannot tell the vocabulary size (no token_embd.weight, " + arch + ".vocab_size or tokens)");
    }

    /** {arch}.rope.scaling.* to transformers' rope_parameters. */
    private static void ropeScaling(GgufFile f, Keys k, ObjectNode rope) {
        String type = f.string(k.prefix + "rope.scaling.type");
        Double linear = k.num("rope.scale_linear");
        if (f.tensor("rope_freqs.weight") != null)
            throw new FormatException(f.path(), "rope_freqs.weight (llama3-style RoPE frequency factors) is not supported yet");
        if (type == null && linear != null && linear != 1.0) {
            type = "linear";
        }
        if (type == null || type.equals("none")) {
            rope.put("rope_type", "default");
            return;
        }
        Double factor = k.num("rope.scaling.factor");
        if (factor == null) factor = linear;
        switch (type) {
            case "linear" -> rope.put("rope_type", "linear");
            case "yarn" -> {
                rope.put("rope_type", "yarn");
                Double attn = k.num("rope.scaling.attn_factor"), fast = k.num("rope.scaling.yarn_beta_fast"), slow = k.num("rope.scaling.yarn_beta_slow");
                if (attn != null) rope.put("attention_factor", attn);
                if (fast != null) rope.put("beta_fast", fast);
                if (slow != null) rope.put("beta_slow", slow);
            }
            default -> throw new FormatException(f.path(), k.prefix + "rope.scaling.type '" + type + "' is not supported (lowbit reads none, linear, yarn)");
        }
        if (factor == null) throw new FormatException(f.path(), k.prefix + "rope.scaling.factor is missing for " + type + " scaling");
        rope.put("factor", factor);
        Long orig = f.integer(k.prefix + "rope.scaling.original_context_length");
        if (orig != null) rope.put("original_max_position_embeddings", orig);
    }

    private record Keys(GgufFile f, String prefix) {
        int req(String key) {
            Long v = f.integer(prefix + key);
            if (v == null) throw new FormatException(f.path(), "missing metadata '" + prefix + key + "'");
            if (v <= 0 || v > Integer.MAX_VALUE) throw new FormatException(f.path(), "metadata '" + prefix + key + "' is " + v + ", out of range");
            return v.intValue();
        }

        int opt(String key, int dflt) {
            return f.value(prefix + key) == null ? dflt : req(key);
        }

        Double num(String key) {
            return f.number(prefix + key);
        }

        /** A float metadata value as transformers would hold it in config.json: the float32 printed shortest. */
        double f32(String key, double dflt) {
            GgufValue v = f.value(prefix + key);
            if (v == null) return dflt;
            double d = f.number(prefix + key);
            return v.type() == GgufValueType.FLOAT32 ? Double.parseDouble(Float.toString((float) d)) : d;
        }
    }
}
