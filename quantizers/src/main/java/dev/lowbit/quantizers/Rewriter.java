package dev.lowbit.quantizers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * `lowbit rewrite`: positional-encoding rewrites. The RoPE layout of q/k projections (half-split as Hugging Face and
 * GPT-NeoX, or interleaved as Meta, GPT-J and GGUF; k with the kv head count), RoPE context extension written in both
 * the transformers 4.x and 5.x config forms, and lowbit's ALiBi slope scale. Weights stream from the mapped input.
 */
public final class Rewriter {
    private Rewriter() {}

    public static final String ROPE_LAYOUT_KEY = "lowbit_rope_layout", ALIBI_SCALE_KEY = "lowbit_alibi_slope_scale";
    private static final Pattern Q = Pattern.compile(".*\\.self_attn\\.q_proj\\.(weight|bias)"), K = Pattern.compile(".*\\.self_attn\\.k_proj\\.(weight|bias)");

    /** Null fields are left alone; NaN numbers take transformers' defaults. */
    public record Options(String ropeLayout, String ropeScaling, double factor, int originalMax, double lowFreqFactor,
                          double highFreqFactor, double betaFast, double betaSlow, Double alibiSlopeScale) {}

    public static void run(Path model, Path out, Options o) throws IOException {
        ModelConfig cfg = ModelConfig.read(model);
        ObjectNode raw = cfg.raw().deepCopy();
        boolean rope = cfg.arch().usesRope();
        if ((o.ropeLayout() != null || o.ropeScaling() != null) && !rope)
            throw new FormatException(model, cfg.arch().modelType + " does not use RoPE");
        if (o.alibiSlopeScale() != null && cfg.arch() != Architecture.BLOOM)
            throw new FormatException(model, cfg.arch().modelType + " does not use ALiBi");
        String from = raw.path(ROPE_LAYOUT_KEY).asText("half"), to = o.ropeLayout() == null ? from : o.ropeLayout();
        if (!to.equals("half") && !to.equals("interleaved")) throw new FormatException(model, "--rope-layout takes half or interleaved, not '" + to + "'");
        if (!from.equals(to) && cfg.rope().partialRotaryFactor() != 1.0)
            throw new FormatException(model, "changing the RoPE layout of a partial-rotary model is not supported");
        if (to.equals("half")) raw.remove(ROPE_LAYOUT_KEY);
        else raw.put(ROPE_LAYOUT_KEY, to);
        if (o.ropeScaling() != null) writeScaling(model, cfg, raw, o);
        if (o.alibiSlopeScale() != null) raw.put(ALIBI_SCALE_KEY, o.alibiSlopeScale());
        try (Checkpoint ck = Checkpoint.open(model)) {
            List<TensorSource> sources = new ArrayList<>();
            for (Tensor t : ck.tensors()) {
                int heads = Q.matcher(t.name()).matches() ? cfg.heads() : K.matcher(t.name()).matches() ? cfg.kvHeads() : 0;
                sources.add(heads == 0 || from.equals(to) ? TensorSource.of(t) : permuted(t, heads, cfg.headDim(), to.equals("interleaved")));
            }
            OutputDir.write(out, tmp -> {
                SafetensorsWriter.writeSharded(tmp, ck.metadata(), sources, Quantizer.SHARD_BYTES);
                OutputDir.copyOthers(model, tmp);
                ModelConfig.write(raw, tmp.resolve("config.json"));
            });
        }
    }

    /**
     * Rows of each head reordered: to interleaved, row 2j+c takes half-split row c·d/2 + j (llama.cpp's
     * reshape(n_head, 2, d/2, in).swapaxes(1, 2)); to half-split, the inverse.
     */
    static TensorSource permuted(Tensor t, int heads, int headDim, boolean toInterleaved) {
        long rowBytes = t.byteSize() / t.shape()[0];
        if (t.shape()[0] != (long) heads * headDim) throw new FormatException(Path.of(t.name()), "has " + t.shape()[0] + " rows, not heads × head_dim = " + heads * headDim);
        int half = headDim / 2;
        return new TensorSource() {
            public String name() { return t.name(); }
            public DType dtype() { return t.dtype(); }
            public long[] shape() { return t.shape(); }

            public void writeTo(OutputStream out) throws IOException {
                byte[] buf = new byte[(int) rowBytes];
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim; i++) {
                        int src = toInterleaved ? (i % 2) * half + i / 2 : 2 * (i % half) + i / half;
                        MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, ((long) h * headDim + src) * rowBytes, buf, 0, buf.length);
                        out.write(buf);
                    }
                }
            }
        };
    }

    /** rope_parameters (5.x) and rope_scaling + rope_theta (4.x), with transformers' required keys filled with its defaults. */
    private static void writeScaling(Path model, ModelConfig cfg, ObjectNode raw, Options o) {
        String type = o.ropeScaling();
        if (!List.of("linear", "dynamic", "yarn", "llama3").contains(type))
            throw new FormatException(model, "--rope-scaling takes linear, dynamic, yarn or llama3, not '" + type + "'");
        if (!(o.factor() > 0)) throw new FormatException(model, "--rope-scaling needs --factor > 0");
        ObjectNode s = raw.objectNode().put("rope_type", type).put("factor", o.factor());
        int orig = o.originalMax() > 0 ? o.originalMax() : type.equals("llama3") || type.equals("yarn") ? cfg.maxPositions() : 0;
        if (orig > 0) s.put("original_max_position_embeddings", orig);
        // The context the scaled model is for: transformers derives yarn's factor from max_position_embeddings /
        // original_max_position_embeddings when the latter is given, so leaving max at the original would cancel the
        // scaling (effective factor 1). dynamic keeps max_position_embeddings: it is its threshold.
        if (!type.equals("dynamic") && raw.has("max_position_embeddings")) {
            int base = orig > 0 ? orig : cfg.maxPositions();
            raw.put("max_position_embeddings", (int) Math.round(base * o.factor()));
        }
        if (type.equals("llama3")) {
            s.put("low_freq_factor", Double.isNaN(o.lowFreqFactor()) ? 1.0 : o.lowFreqFactor());
            s.put("high_freq_factor", Double.isNaN(o.highFreqFactor()) ? 4.0 : o.highFreqFactor());
        }
        if (type.equals("yarn")) {
            if (!Double.isNaN(o.betaFast())) s.put("beta_fast", o.betaFast());
            if (!Double.isNaN(o.betaSlow())) s.put("beta_slow", o.betaSlow());
        }
        raw.set("rope_scaling", s.deepCopy());
        raw.put("rope_theta", cfg.rope().theta());
        ObjectNode p = s.deepCopy().put("rope_theta", cfg.rope().theta());
        if (cfg.rope().partialRotaryFactor() != 1.0) p.put("partial_rotary_factor", cfg.rope().partialRotaryFactor());
        raw.set("rope_parameters", p);
    }
}
