package dev.lowbit.validate.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.gguf.GgufConfig;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.kernels.BlockWeights;
import dev.lowbit.kernels.Weights;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A .gguf file as a model for the engine: the config synthesized from its metadata ({@link GgufConfig}) and its
 * tensors bound by their GGUF names, in any weight format registered in {@link WeightFormats}. Layouts differ from
 * transformers' in two places, both handled here without copying weights: GPT-2's Conv1D weights are already
 * transposed to [out, in] by llama.cpp's converter, and BLOOM's fused query_key_value rows are reordered from per-head
 * (q, k, v) to [Q | K | V] (mapped back by a row view). Llama's q/k rows are interleaved (the config says so).
 */
public final class GgufModel {
    private GgufModel() {}


    /** Opens a .gguf file as a Transformer; overrides replace keys of the synthesized config. */
    static Transformer open(Path file, Map<String, Object> overrides) {
        Arena arena = Arena.ofShared();
        try {
            GgufFile f = GgufFile.open(file, arena);
            ObjectNode raw = GgufConfig.of(f);
            Transformer.override(raw, overrides);
            ModelConfig c = ModelConfig.parse(file, raw);
            return new Transformer(c, bind(c, f), arena::close, file);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static ModelWeights bind(ModelConfig c, GgufFile f) {
        Binder b = new Binder(f);
        return switch (c.arch()) {
            case GPT2 -> gpt2(c, b);
            case BLOOM -> bloom(c, b);
            case LLAMA, MISTRAL, QWEN2 -> llama(c, b);
        };
    }

    private static ModelWeights llama(ModelConfig c, Binder w) {
        int d = c.hidden(), f = c.ffn(), qd = c.heads() * c.headDim(), kvd = c.kvHeads() * c.headDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "blk." + i + ".";
            layers[i] = new Layer(w.vector(l + "attn_norm.weight", d), null,
                    null, w.matrix(l + "attn_q.weight", qd, d), w.matrix(l + "attn_k.weight", kvd, d), w.matrix(l + "attn_v.weight", kvd, d),
                    null, w.optionalVector(l + "attn_q.bias", qd), w.optionalVector(l + "attn_k.bias", kvd), w.optionalVector(l + "attn_v.bias", kvd),
                    w.matrix(l + "attn_output.weight", d, qd), w.optionalVector(l + "attn_output.bias", d),
                    w.vector(l + "ffn_norm.weight", d), null,
                    w.matrix(l + "ffn_gate.weight", f, d), w.matrix(l + "ffn_up.weight", f, d), null,
                    w.matrix(l + "ffn_down.weight", d, f), null);
        }
        Weights emb = w.matrix("token_embd.weight", c.vocab(), d);
        return new ModelWeights(c, emb, null, null, null, layers, w.vector("output_norm.weight", d), null, lmHead(c, w, emb));
    }

    private static ModelWeights gpt2(ModelConfig c, Binder w) {
        int d = c.hidden(), f = c.ffn();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "blk." + i + ".";
            layers[i] = new Layer(w.vector(l + "attn_norm.weight", d), w.vector(l + "attn_norm.bias", d),
                    w.matrix(l + "attn_qkv.weight", 3 * d, d), null, null, null,
                    w.vector(l + "attn_qkv.bias", 3 * d), null, null, null,
                    w.matrix(l + "attn_output.weight", d, d), w.vector(l + "attn_output.bias", d),
                    w.vector(l + "ffn_norm.weight", d), w.vector(l + "ffn_norm.bias", d),
                    null, w.matrix(l + "ffn_up.weight", f, d), w.vector(l + "ffn_up.bias", f),
                    w.matrix(l + "ffn_down.weight", d, f), w.vector(l + "ffn_down.bias", d));
        }
        Weights emb = w.matrix("token_embd.weight", c.vocab(), d);
        return new ModelWeights(c, emb, w.matrix("position_embd.weight", c.maxPositions(), d), null, null, layers,
                w.vector("output_norm.weight", d), w.vector("output_norm.bias", d), lmHead(c, w, emb));
    }

    private static ModelWeights bloom(ModelConfig c, Binder w) {
        int d = c.hidden(), f = c.ffn();
        int[] qkvMap = RowMappedWeights.bloomQkv(c.heads(), c.headDim());
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "blk." + i + ".";
            RowMappedWeights qkv = new RowMappedWeights(w.matrix(l + "attn_qkv.weight", 3 * d, d), qkvMap);
            layers[i] = new Layer(w.vector(l + "attn_norm.weight", d), w.vector(l + "attn_norm.bias", d),
                    qkv, null, null, null,
                    qkv.apply(w.vector(l + "attn_qkv.bias", 3 * d)), null, null, null,
                    w.matrix(l + "attn_output.weight", d, d), w.vector(l + "attn_output.bias", d),
                    w.vector(l + "ffn_norm.weight", d), w.vector(l + "ffn_norm.bias", d),
                    null, w.matrix(l + "ffn_up.weight", f, d), w.vector(l + "ffn_up.bias", f),
                    w.matrix(l + "ffn_down.weight", d, f), w.vector(l + "ffn_down.bias", d));
        }
        Weights emb = w.matrix("token_embd.weight", c.vocab(), d);
        return new ModelWeights(c, emb, null, w.vector("token_embd_norm.weight", d), w.vector("token_embd_norm.bias", d), layers,
                w.vector("output_norm.weight", d), w.vector("output_norm.bias", d), lmHead(c, w, emb));
    }

    /** output.weight when the file has one (even for architectures that usually tie it), else the embedding. */
    private static Weights lmHead(ModelConfig c, Binder w, Weights embed) {
        return w.has("output.weight") ? w.matrix("output.weight", c.vocab(), c.hidden()) : embed;
    }

    /** Tensors by GGUF name, checked against the config's shapes (numpy order: [rows, cols]). */
    private record Binder(GgufFile f) {
        boolean has(String name) {
            return f.tensor(name) != null;
        }

        Weights matrix(String name, int rows, int cols) {
            GgufTensor t = expect(name, rows, cols);
            return BlockWeights.of(t.data(), format(t), rows, cols);
        }

        float[] vector(String name, int n) {
            GgufTensor t = expect(name, n);
            float[] out = new float[n];
            new BlockWeights(t.data(), format(t), 1, n).decodeRows(0, 1, out);
            return out;
        }

        float[] optionalVector(String name, int n) {
            return has(name) ? vector(name, n) : null;
        }

        private WeightFormat format(GgufTensor t) {
            WeightFormat fmt = WeightFormats.ggml(t.type());
            if (fmt == null) throw new FormatException(f.path(), t.name(), "GGUF type " + t.typeName() + " is not a weight format lowbit runs yet");
            return fmt;
        }

        private GgufTensor expect(String name, long... shape) {
            GgufTensor t = f.tensor(name);
            if (t == null) throw new FormatException(f.path(), "missing tensor '" + name + "'");
            if (!Arrays.equals(t.shape(), shape))
                throw new FormatException(f.path(), name, "shape " + Arrays.toString(t.shape()) + " does not match the metadata's " + Arrays.toString(shape));
            return t;
        }
    }
}
