package dev.lowbit.quantizers.gptq;

import dev.lowbit.quantizers.WeightEncoder;
import dev.lowbit.quantizers.calib.Calibration;
import dev.lowbit.quantizers.format.WeightFormat;

/**
 * GPTQ for quantize, convert and sweep: every quantized linear weight with the second moment of its input from the
 * calibration. Embedding tables (quantized by some GGUF recipes) are lookups with no input to weigh: they are left to
 * the plain encoder.
 */
public record GptqEncoder(Calibration calibration, Gptq.Options options) implements WeightEncoder {

    static boolean isEmbedding(String name) {
        return name.contains("embed") || name.contains("wte.") || name.contains("wpe.") || name.contains("word_embeddings");
    }

    @Override
    public byte[] encode(String name, float[] w, int rows, int cols, WeightFormat f) {
        double[] h = calibration.hessian(name);
        if (h == null && isEmbedding(name)) return null;
        if (h == null) throw new IllegalArgumentException("tensor '" + name + "': the calibration has no input statistics (XᵀX) for it, which GPTQ needs");
        if (h.length != (long) cols * cols)
            throw new IllegalArgumentException("tensor '" + name + "': the calibration's XᵀX is for " + (int) Math.sqrt(h.length) + " inputs, the weight has " + cols);
        try {
            return Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), options);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': GPTQ: " + e.getMessage(), e);
        }
    }
}
