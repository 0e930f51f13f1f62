package dev.lowbit.validate.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.Tensor;
import dev.lowbit.kernels.FourBitWeights;
import dev.lowbit.kernels.Int4Weights;
import dev.lowbit.kernels.Int8BlockWeights;
import dev.lowbit.kernels.Int8RowWeights;
import dev.lowbit.kernels.Weights;
import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.DoubleQuant;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/** Finds a weight written by `lowbit quantize` in either layout and binds it to its kernel layout. */
final class QuantizedWeights {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Checkpoint ck;
    private final Map<String, String> metadata;

    QuantizedWeights(Checkpoint ck) {
        this.ck = ck;
        this.metadata = ck.metadata();
    }

    /** The quantized weight called name, or null when it is stored plain. */
    Weights find(String name, int rows, int cols) {
        try {
            String lowbit = metadata.get("lowbit:" + name);
            if (lowbit != null) return lowbit(name, JSON.readTree(lowbit), rows, cols);
            for (Codebook4 cb : Codebook4.values()) {
                String state = name + ".quant_state.bitsandbytes__" + cb.bnbName();
                if (ck.has(state)) return bnbFourBit(name, cb, JSON.readTree(new String(bytes(ck.tensor(state)), StandardCharsets.UTF_8)), rows, cols);
            }
            String base = name.endsWith(".weight") ? name.substring(0, name.length() - 7) : name;
            if (ck.has(base + ".SCB") && ck.has(name) && ck.tensor(name).dtype() == DType.I8) {
                check(name, new long[] {rows, cols}, ck.tensor(name).shape());
                return new Int8RowWeights(ck.tensor(name).data(), ck.tensor(base + ".SCB").toFloatArray(), rows, cols);
            }
            return null;
        } catch (IOException e) {
            throw new FormatException(ck.dir(), name, "quantization description is not valid JSON");
        }
    }

    private Weights lowbit(String w, JsonNode d, int rows, int cols) {
        check(w, new long[] {rows, cols}, JSON.convertValue(d.get("shape"), long[].class));
        int block = d.path("block").asInt();
        return switch (d.path("scheme").asText()) {
            case "nf4", "fp4" -> {
                Codebook4 cb = d.path("scheme").asText().equals("nf4") ? Codebook4.NF4 : Codebook4.FP4;
                float[] absmax = d.path("double_quant").asBoolean()
                        ? new DoubleQuant(bytes(ck.tensor(w + ".absmax.q8")), ck.tensor(w + ".absmax.nested").toFloatArray(),
                                ck.tensor(w + ".absmax.offset").toFloatArray()[0]).absmax()
                        : ck.tensor(w + ".absmax").toFloatArray();
                yield new FourBitWeights(ck.tensor(w + ".q4").data(), absmax, cb, block, rows, cols);
            }
            case "int8" -> new Int8RowWeights(ck.tensor(w + ".q8").data(), ck.tensor(w + ".scale").toFloatArray(), rows, cols);
            case "int8-block" -> new Int8BlockWeights(ck.tensor(w + ".q8").data(), ck.tensor(w + ".scale").data(), rows, cols);
            case "int4", "int4-asym" -> new Int4Weights(ck.tensor(w + ".q4").data(), ck.tensor(w + ".scale").data(),
                    ck.has(w + ".zero") ? ck.tensor(w + ".zero").data() : null, block, rows, cols);
            default -> throw new FormatException(ck.dir(), w, "unknown lowbit scheme '" + d.path("scheme").asText() + "'");
        };
    }

    private Weights bnbFourBit(String w, Codebook4 cb, JsonNode state, int rows, int cols) {
        check(w, new long[] {rows, cols}, JSON.convertValue(state.get("shape"), long[].class));
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

    private void check(String w, long[] want, long[] got) {
        if (!Arrays.equals(want, got))
            throw new FormatException(ck.dir(), w, "quantized shape " + Arrays.toString(got) + " does not match the config's " + Arrays.toString(want));
    }

    private static byte[] bytes(Tensor t) {
        return t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
}
