package dev.lowbit.validate.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.Tensor;
import dev.lowbit.kernels.Bf16Weights;
import dev.lowbit.kernels.F16Weights;
import dev.lowbit.kernels.F32Weights;
import dev.lowbit.kernels.TransposedWeights;
import dev.lowbit.kernels.Weights;
import java.util.Arrays;

/** Binds stored tensors to kernel weight layouts, checking shapes against the config. */
final class WeightsLoader {
    private final Checkpoint ck;

    private final QuantizedWeights quantized;

    WeightsLoader(Checkpoint ck, JsonNode config) {
        this.ck = ck;
        this.quantized = new QuantizedWeights(ck, config);
    }

    boolean has(String name) {
        return ck.has(name);
    }

    /** A [rows × cols] matrix stored [rows, cols], plain or quantized in a lowbit or hf-bnb layout. */
    Weights matrix(String name, int rows, int cols) {
        Weights q = quantized.find(name, rows, cols);
        if (q != null) return q;
        Tensor t = expect(name, rows, cols);
        return switch (t.dtype()) {
            case F32 -> new F32Weights(t.data(), rows, cols);
            case F16 -> new F16Weights(t.data(), rows, cols);
            case BF16 -> new Bf16Weights(t.data(), rows, cols);
            default -> throw new FormatException(ck.dir(), name, "dtype " + t.dtype() + " is not a weight format lowbit runs");
        };
    }

    /** A [rows × cols] matrix stored transposed as [cols, rows] (GPT-2 Conv1D); quantized ones are stored [rows, cols]. */
    Weights transposed(String name, int rows, int cols) {
        Weights q = quantized.find(name, rows, cols);
        if (q != null) return q;
        Tensor t = expect(name, cols, rows);
        return new TransposedWeights(t.data(), t.dtype(), rows, cols);
    }

    /** A 1-D tensor of n values, as floats. */
    float[] vector(String name, int n) {
        return expect(name, n).toFloatArray();
    }

    float[] optionalVector(String name, int n) {
        return ck.has(name) ? vector(name, n) : null;
    }

    private Tensor expect(String name, long... shape) {
        Tensor t = ck.tensor(name);
        if (!Arrays.equals(t.shape(), shape))
            throw new FormatException(ck.dir(), name, "shape " + Arrays.toString(t.shape()) + " does not match the config's " + Arrays.toString(shape));
        return t;
    }
}
