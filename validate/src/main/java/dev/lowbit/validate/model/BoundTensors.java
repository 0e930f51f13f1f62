package dev.lowbit.validate.model;

import dev.lowbit.formats.ModelConfig;
import dev.lowbit.kernels.Weights;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors a model runs with, as bound for the engine, under their transformers names and in transformers' layouts
 * ([out, in] matrices; q/k rows in the half-split RoPE layout, interleaved ones viewed back): so that two models
 * stored differently (a safetensors folder and a GGUF file) can be compared tensor by tensor. Values are Weights
 * (matrices) or float[] (norms, biases).
 */
final class BoundTensors {
    private BoundTensors() {}

    static Map<String, Object> of(ModelConfig c, ModelWeights w, boolean interleaved) {
        Map<String, Object> out = new LinkedHashMap<>();
        switch (c.arch()) {
            case GPT2 -> {
                String p = "transformer.";
                put(out, p + "wte.weight", w.embed());
                put(out, p + "wpe.weight", w.positions());
                for (int i = 0; i < w.layers().length; i++) {
                    Layer l = w.layers()[i];
                    String h = p + "h." + i + ".";
                    norms(out, h + "ln_1", l.norm1(), l.norm1Bias());
                    put(out, h + "attn.c_attn.weight", l.qkv());
                    put(out, h + "attn.c_attn.bias", l.qkvBias());
                    put(out, h + "attn.c_proj.weight", l.o());
                    put(out, h + "attn.c_proj.bias", l.oBias());
                    norms(out, h + "ln_2", l.norm2(), l.norm2Bias());
                    put(out, h + "mlp.c_fc.weight", l.up());
                    put(out, h + "mlp.c_fc.bias", l.upBias());
                    put(out, h + "mlp.c_proj.weight", l.down());
                    put(out, h + "mlp.c_proj.bias", l.downBias());
                }
                norms(out, p + "ln_f", w.finalNorm(), w.finalNormBias());
            }
            case BLOOM -> {
                String p = "transformer.";
                put(out, p + "word_embeddings.weight", w.embed());
                norms(out, p + "word_embeddings_layernorm", w.embedNorm(), w.embedNormBias());
                for (int i = 0; i < w.layers().length; i++) {
                    Layer l = w.layers()[i];
                    String h = p + "h." + i + ".";
                    norms(out, h + "input_layernorm", l.norm1(), l.norm1Bias());
                    put(out, h + "self_attention.query_key_value.weight", l.qkv());
                    put(out, h + "self_attention.query_key_value.bias", l.qkvBias());
                    put(out, h + "self_attention.dense.weight", l.o());
                    put(out, h + "self_attention.dense.bias", l.oBias());
                    norms(out, h + "post_attention_layernorm", l.norm2(), l.norm2Bias());
                    put(out, h + "mlp.dense_h_to_4h.weight", l.up());
                    put(out, h + "mlp.dense_h_to_4h.bias", l.upBias());
                    put(out, h + "mlp.dense_4h_to_h.weight", l.down());
                    put(out, h + "mlp.dense_4h_to_h.bias", l.downBias());
                }
                norms(out, p + "ln_f", w.finalNorm(), w.finalNormBias());
            }
            case LLAMA, MISTRAL, QWEN2 -> {
                put(out, "model.embed_tokens.weight", w.embed());
                int[] qMap = interleaved ? halfFromInterleaved(c.heads(), c.headDim()) : null;
                int[] kMap = interleaved ? halfFromInterleaved(c.kvHeads(), c.headDim()) : null;
                for (int i = 0; i < w.layers().length; i++) {
                    Layer l = w.layers()[i];
                    String h = "model.layers." + i + ".";
                    put(out, h + "input_layernorm.weight", l.norm1());
                    put(out, h + "self_attn.q_proj.weight", qMap == null ? l.q() : new RowMappedWeights(l.q(), qMap));
                    put(out, h + "self_attn.q_proj.bias", qMap == null || l.qBias() == null ? l.qBias() : new RowMappedWeights(l.q(), qMap).apply(l.qBias()));
                    put(out, h + "self_attn.k_proj.weight", kMap == null ? l.k() : new RowMappedWeights(l.k(), kMap));
                    put(out, h + "self_attn.k_proj.bias", kMap == null || l.kBias() == null ? l.kBias() : new RowMappedWeights(l.k(), kMap).apply(l.kBias()));
                    put(out, h + "self_attn.v_proj.weight", l.v());
                    put(out, h + "self_attn.v_proj.bias", l.vBias());
                    put(out, h + "self_attn.o_proj.weight", l.o());
                    put(out, h + "self_attn.o_proj.bias", l.oBias());
                    put(out, h + "post_attention_layernorm.weight", l.norm2());
                    put(out, h + "mlp.gate_proj.weight", l.gate());
                    put(out, h + "mlp.up_proj.weight", l.up());
                    put(out, h + "mlp.down_proj.weight", l.down());
                }
                put(out, "model.norm.weight", w.finalNorm());
            }
        }
        if (w.lmHead() != w.embed()) put(out, "lm_head.weight", w.lmHead());
        return out;
    }

    private static void norms(Map<String, Object> out, String name, float[] weight, float[] bias) {
        put(out, name + ".weight", weight);
        put(out, name + ".bias", bias);
    }

    private static void put(Map<String, Object> out, String name, Object v) {
        if (v != null) out.put(name, v);
    }

    /**
     * Rows of q or k in the half-split layout, read from the interleaved one (llama.cpp's converter and `lowbit rewrite
     * --rope-layout interleaved`): half-split row s·hd/2 + m of a head is interleaved row 2m + s.
     */
    static int[] halfFromInterleaved(int heads, int headDim) {
        int[] map = new int[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int s = 0; s < 2; s++)
                for (int m = 0; m < half; m++) map[h * headDim + s * half + m] = h * headDim + 2 * m + s;
        return map;
    }
}
