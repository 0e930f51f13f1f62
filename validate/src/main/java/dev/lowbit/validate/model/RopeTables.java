package dev.lowbit.validate.model;

import dev.lowbit.formats.FloatBits;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.Rope;

/**
 * RoPE inverse frequencies as transformers computes them (float32), for the default, linear, dynamic NTK, YaRN and
 * llama3 scalings, and the cos/sin tables of a chunk (attention factor applied). The frequencies stay float32, as
 * from_pretrained keeps them; config key {@value #INV_FREQ_DTYPE_KEY} = "bfloat16" or "float16" rounds them as
 * transformers does for a model cast with .to(dtype), which casts the inv_freq buffer too.
 */
final class RopeTables {
    final int rotaryDim;
    private final ModelConfig cfg;
    private final Rope rope;

    RopeTables(ModelConfig cfg) {
        this.cfg = cfg;
        this.rope = cfg.rope();
        int d = (int) (cfg.headDim() * rope.partialRotaryFactor());
        this.rotaryDim = d - d % 2;
    }

    private int originalMax() {
        return rope.originalMaxPositions() > 0 ? rope.originalMaxPositions() : cfg.maxPositions();
    }

    /** The base frequencies 1/base^(2i/dim) in float32. */
    static float[] baseInvFreq(double base, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1f / (float) Math.pow((float) base, (float) (2 * i) / (float) dim);
        return inv;
    }

    float[] invFreq(int seqLen) {
        int dim = rotaryDim;
        float factor = (float) rope.factor();
        return switch (rope.type()) {
            case "default" -> baseInvFreq(rope.theta(), dim);
            case "linear" -> {
                float[] inv = baseInvFreq(rope.theta(), dim);
                for (int i = 0; i < inv.length; i++) inv[i] /= factor;
                yield inv;
            }
            case "dynamic" -> {
                int max = originalMax();
                if (seqLen <= max) yield baseInvFreq(rope.theta(), dim);
                double base = rope.theta() * Math.pow(rope.factor() * seqLen / max - (rope.factor() - 1), (double) dim / (dim - 2));
                yield baseInvFreq(base, dim);
            }
            case "yarn" -> yarn(dim);
            case "llama3" -> llama3(dim);
            default -> throw new IllegalArgumentException("unsupported rope_type '" + rope.type() + "'");
        };
    }

    double attentionFactor() {
        if (!Double.isNaN(rope.attentionFactor())) return rope.attentionFactor();
        if (rope.type().equals("yarn")) return yarnFactor() <= 1 ? 1.0 : 0.1 * Math.log(yarnFactor()) + 1.0;
        return 1.0;
    }

    /** transformers derives YaRN's factor from max_position_embeddings / original when the original is given, and uses it throughout. */
    private double yarnFactor() {
        return rope.originalMaxPositions() > 0 ? (double) cfg.maxPositions() / rope.originalMaxPositions() : rope.factor();
    }

    private float[] yarn(int dim) {
        double base = rope.theta();
        double betaFast = Double.isNaN(rope.betaFast()) ? 32 : rope.betaFast(), betaSlow = Double.isNaN(rope.betaSlow()) ? 1 : rope.betaSlow();
        int max = originalMax();
        double low = Math.max(Math.floor(correctionDim(betaFast, dim, base, max)), 0);
        double high = Math.min(Math.ceil(correctionDim(betaSlow, dim, base, max)), dim - 1);
        if (low == high) high += 0.001;
        float factor = (float) yarnFactor();
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float posFreq = (float) Math.pow((float) base, (float) (2 * i) / (float) dim);
            float extrap = 1f / posFreq, interp = 1f / (factor * posFreq);
            float ramp = Math.min(1f, Math.max(0f, (float) ((i - low) / (high - low))));
            float extrapFactor = 1f - ramp;
            inv[i] = interp * (1f - extrapFactor) + extrap * extrapFactor;
        }
        return inv;
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPos) {
        return dim * Math.log(maxPos / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    private float[] llama3(int dim) {
        float[] inv = baseInvFreq(rope.theta(), dim);
        double lowF = Double.isNaN(rope.lowFreqFactor()) ? 1 : rope.lowFreqFactor(), highF = Double.isNaN(rope.highFreqFactor()) ? 4 : rope.highFreqFactor();
        int max = originalMax();
        float lowWave = (float) (max / lowF), highWave = (float) (max / highF), factor = (float) rope.factor();
        for (int i = 0; i < inv.length; i++) {
            float wave = (float) (2 * Math.PI) / inv[i];
            if (wave > lowWave) inv[i] = inv[i] / factor;
            else if (wave >= highWave) {
                float s = (float) ((max / wave - lowF) / (highF - lowF));
                inv[i] = (1 - s) * inv[i] / factor + s * inv[i];
            }
        }
        return inv;
    }

    static final String INV_FREQ_DTYPE_KEY = "lowbit_rope_inv_freq_dtype";

    /** invFreq as the buffer holds it: float32, or rounded through the dtype the config key names. */
    float[] bufferInvFreq(int seqLen) {
        float[] inv = invFreq(seqLen);
        String dtype = cfg.raw().path(INV_FREQ_DTYPE_KEY).asText("float32");
        for (int i = 0; i < inv.length; i++) {
            if ("bfloat16".equals(dtype)) inv[i] = FloatBits.bf16ToFloat(FloatBits.floatToBf16(inv[i]));
            else if ("float16".equals(dtype)) inv[i] = Float.float16ToFloat(Float.floatToFloat16(inv[i]));
        }
        return inv;
    }

    /** cos and sin [positions × rotaryDim/2] for positions 0..n-1, each scaled by the attention factor. */
    float[][] tables(int n) {
        return tables(0, n);
    }

    /**
     * cos and sin [(to - from) × rotaryDim/2] for positions from..to-1, with the frequencies of a sequence of `to`
     * tokens (dynamic NTK grows them with the longest position seen, as transformers' dynamic_rope_update does).
     */
    float[][] tables(int from, int to) {
        float[] inv = bufferInvFreq(to);
        int half = inv.length, n = to - from;
        float af = (float) attentionFactor();
        float[] cos = new float[n * half], sin = new float[n * half];
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < half; i++) {
                float f = (float) (from + p) * inv[i];
                cos[p * half + i] = (float) Math.cos(f) * af;
                sin[p * half + i] = (float) Math.sin(f) * af;
            }
        }
        return new float[][] {cos, sin};
    }
}
