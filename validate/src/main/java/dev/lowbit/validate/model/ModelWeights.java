package dev.lowbit.validate.model;

import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.kernels.Weights;

/** The tensors of a supported architecture, bound by their Hugging Face names; nothing is copied but norms and biases. */
record ModelWeights(ModelConfig cfg, Weights embed, Weights positions, float[] embedNorm, float[] embedNormBias,
                    Layer[] layers, float[] finalNorm, float[] finalNormBias, Weights lmHead) {

    static ModelWeights bind(ModelConfig c, Checkpoint ck) {
        WeightsLoader w = new WeightsLoader(ck, c.raw());
        return switch (c.arch()) {
            case GPT2 -> gpt2(c, w);
            case BLOOM -> bloom(c, w);
            case LLAMA, MISTRAL, QWEN2 -> llama(c, w);
        };
    }

    private static ModelWeights gpt2(ModelConfig c, WeightsLoader w) {
        int d = c.hidden(), f = c.ffn();
        String p = w.has("transformer.wte.weight") ? "transformer." : "";
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = p + "h." + i + ".";
            layers[i] = new Layer(w.vector(l + "ln_1.weight", d), w.vector(l + "ln_1.bias", d),
                    w.transposed(l + "attn.c_attn.weight", 3 * d, d), null, null, null,
                    w.vector(l + "attn.c_attn.bias", 3 * d), null, null, null,
                    w.transposed(l + "attn.c_proj.weight", d, d), w.vector(l + "attn.c_proj.bias", d),
                    w.vector(l + "ln_2.weight", d), w.vector(l + "ln_2.bias", d),
                    null, w.transposed(l + "mlp.c_fc.weight", f, d), w.vector(l + "mlp.c_fc.bias", f),
                    w.transposed(l + "mlp.c_proj.weight", d, f), w.vector(l + "mlp.c_proj.bias", d));
        }
        Weights wte = w.matrix(p + "wte.weight", c.vocab(), d);
        return new ModelWeights(c, wte, w.matrix(p + "wpe.weight", c.maxPositions(), d), null, null, layers,
                w.vector(p + "ln_f.weight", d), w.vector(p + "ln_f.bias", d), lmHead(c, w, wte));
    }

    private static ModelWeights bloom(ModelConfig c, WeightsLoader w) {
        int d = c.hidden(), f = c.ffn();
        String p = w.has("transformer.word_embeddings.weight") ? "transformer." : "";
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = p + "h." + i + ".";
            layers[i] = new Layer(w.vector(l + "input_layernorm.weight", d), w.vector(l + "input_layernorm.bias", d),
                    w.matrix(l + "self_attention.query_key_value.weight", 3 * d, d), null, null, null,
                    w.vector(l + "self_attention.query_key_value.bias", 3 * d), null, null, null,
                    w.matrix(l + "self_attention.dense.weight", d, d), w.vector(l + "self_attention.dense.bias", d),
                    w.vector(l + "post_attention_layernorm.weight", d), w.vector(l + "post_attention_layernorm.bias", d),
                    null, w.matrix(l + "mlp.dense_h_to_4h.weight", f, d), w.vector(l + "mlp.dense_h_to_4h.bias", f),
                    w.matrix(l + "mlp.dense_4h_to_h.weight", d, f), w.vector(l + "mlp.dense_4h_to_h.bias", d));
        }
        Weights emb = w.matrix(p + "word_embeddings.weight", c.vocab(), d);
        return new ModelWeights(c, emb, null, w.vector(p + "word_embeddings_layernorm.weight", d),
                w.vector(p + "word_embeddings_layernorm.bias", d), layers,
                w.vector(p + "ln_f.weight", d), w.vector(p + "ln_f.bias", d), lmHead(c, w, emb));
    }

    private static ModelWeights llama(ModelConfig c, WeightsLoader w) {
        int d = c.hidden(), f = c.ffn(), qd = c.heads() * c.headDim(), kvd = c.kvHeads() * c.headDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "model.layers." + i + ".";
            String a = l + "self_attn.";
            layers[i] = new Layer(w.vector(l + "input_layernorm.weight", d), null,
                    null, w.matrix(a + "q_proj.weight", qd, d), w.matrix(a + "k_proj.weight", kvd, d), w.matrix(a + "v_proj.weight", kvd, d),
                    null, w.optionalVector(a + "q_proj.bias", qd), w.optionalVector(a + "k_proj.bias", kvd), w.optionalVector(a + "v_proj.bias", kvd),
                    w.matrix(a + "o_proj.weight", d, qd), w.optionalVector(a + "o_proj.bias", d),
                    w.vector(l + "post_attention_layernorm.weight", d), null,
                    w.matrix(l + "mlp.gate_proj.weight", f, d), w.matrix(l + "mlp.up_proj.weight", f, d), null,
                    w.matrix(l + "mlp.down_proj.weight", d, f), null);
        }
        Weights emb = w.matrix("model.embed_tokens.weight", c.vocab(), d);
        return new ModelWeights(c, emb, null, null, null, layers, w.vector("model.norm.weight", d), null, lmHead(c, w, emb));
    }

    private static Weights lmHead(ModelConfig c, WeightsLoader w, Weights embed) {
        return c.tiedEmbeddings() ? embed : w.matrix("lm_head.weight", c.vocab(), c.hidden());
    }

    boolean usesLayerNorm() {
        return cfg.arch() == Architecture.GPT2 || cfg.arch() == Architecture.BLOOM;
    }
}
