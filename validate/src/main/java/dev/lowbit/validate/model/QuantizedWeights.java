package dev.lowbit.validate.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.Tensor;
import dev.lowbit.kernels.BlockWeights;
import dev.lowbit.kernels.FourBitWeights;
import dev.lowbit.kernels.Int8LtWeights;
import dev.lowbit.kernels.Int8RowWeights;
import dev.lowbit.kernels.Weights;
import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.DoubleQuant;
import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/** Finds a weight written by `lowbit quantize` in either layout and binds it to its kernel layout. */
final class QuantizedWeights {
    private final Checkpoint ck;
    private final Map<String, String> metadata;

    /** Config key choosing how an hf-bnb int8 folder runs: "bitsandbytes" (default) or "weights". */
    public static final String INT8_RUNTIME_KEY = "lowbit_int8_runtime";
    private final float int8Threshold;

    QuantizedWeights(Checkpoint ck) {
        this(ck, null);
    }

    /**
     * With a config: an hf-bnb LLM.int8 folder (load_in_8bit) runs as bitsandbytes runs it, activations quantized
     * with outlier columns kept in float ({@link Int8LtWeights}, threshold llm_int8_threshold), unless the config key
     * lowbit_int8_runtime is "weights" (then only the weights are int8, activations stay float32).
     */
    QuantizedWeights(Checkpoint ck, JsonNode config) {
        this.ck = ck;
        this.metadata = ck.metadata();
        JsonNode q = config == null ? null : config.get("quantization_config");
        String runtime = config == null ? "weights" : config.path(INT8_RUNTIME_KEY).asText("bitsandbytes");
        if (!runtime.equals("weights") && !runtime.equals("bitsandbytes"))
            throw new FormatException(ck.dir(), INT8_RUNTIME_KEY + " must be bitsandbytes or weights, not '" + runtime + "'");
        boolean lt = q != null && q.path("load_in_8bit").asBoolean(false) && runtime.equals("bitsandbytes");
        this.int8Threshold = lt ? (float) q.path("llm_int8_threshold").asDouble(6.0) : -1;
    }

    /** The quantized weight called name, or null when it is stored plain. */
    Weights find(String name, int rows, int cols) {
        try {
            String lowbit = metadata.get("lowbit:" + name);
            if (lowbit != null) return lowbit(name, JsonTree.read(lowbit), rows, cols);
            for (Codebook4 cb : Codebook4.values()) {
                String state = name + ".quant_state.bitsandbytes__" + cb.bnbName();
                if (ck.has(state)) return bnbFourBit(name, cb, JsonTree.read(new String(bytes(ck.tensor(state)), StandardCharsets.UTF_8)), rows, cols);
            }
            String base = name.endsWith(".weight") ? name.substring(0, name.length() - 7) : name;
            if (ck.has(base + ".SCB") && ck.has(name) && ck.tensor(name).dtype() == DType.I8) {
                check(name, new long[] {rows, cols}, ck.tensor(name).shape());
                Int8RowWeights w = new Int8RowWeights(ck.tensor(name).data(), ck.tensor(base + ".SCB").toFloatArray(), rows, cols);
                return int8Threshold > 0 ? new Int8LtWeights(w, int8Threshold) : w;
            }
            return null;
        } catch (IOException e) {
            throw new FormatException(ck.dir(), name, "quantization description is not valid JSON");
        }
    }

    private Weights lowbit(String w, JsonNode d, int rows, int cols) {
        String version = metadata.get("lowbit.format");
        if (!Integer.toString(Layout.LOWBIT_FORMAT).equals(version))
            throw new FormatException(ck.dir(), w, "lowbit layout format " + version + " is not " + Layout.LOWBIT_FORMAT + " (written by an older lowbit): quantize the model again");
        check(w, new long[] {rows, cols}, longs(d.get("shape")));
        WeightFormat f = WeightFormats.lowbit(d.path("scheme").asText(), d.path("block").asInt(), cols);
        if (f == null) throw new FormatException(ck.dir(), w, "unknown lowbit scheme '" + d.path("scheme").asText() + "'");
        try {
            return BlockWeights.of(ck.tensor(w).data(), f, rows, cols);
        } catch (IllegalArgumentException e) {
            throw new FormatException(ck.dir(), w, e.getMessage());
        }
    }

    private Weights bnbFourBit(String w, Codebook4 cb, JsonNode state, int rows, int cols) {
        check(w, new long[] {rows, cols}, longs(state.get("shape")));
        int block = state.path("blocksize").asInt();
        float[] absmax;
        if (state.has("nested_offset")) {
            float[] map = ck.tensor(w + ".nested_quant_map").toFloatArray(), nested = ck.tensor(w + ".nested_absmax").toFloatArray();
            byte[] codes = bytes(ck.tensor(w + ".absmax"));
            float offset = (float) state.get("nested_offset").asDouble();
            int nb = state.path("nested_blocksize").asInt(DoubleQuant.NESTED_BLOCK);
            absmax = new float[codes.length];
            for (int i = 0; i < codes.length; i++) absmax[i] = map[codes[i] & 0xff] * nested[i / nb] + offset;
        } else absmax = ck.tensor(w + ".absmax").toFloatArray();
        return new FourBitWeights(ck.tensor(w).data(), absmax, cb, block, rows, cols);
    }

    /** A JSON array of integers as longs (null when absent or not an array). */
    private static long[] longs(JsonNode a) {
        if (a == null || !a.isArray()) return null;
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
        return out;
    }

    private void check(String w, long[] want, long[] got) {
        if (!Arrays.equals(want, got))
            throw new FormatException(ck.dir(), w, "quantized shape " + Arrays.toString(got) + " does not match the config's " + Arrays.toString(want));
    }

    private static byte[] bytes(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }
}
