package dev.lowbit.quantizers.calib;

/**
 * How a quantization run uses calibration: the importance of each weight's input columns (null calibration: none),
 * and whether lowbit's own 4-bit formats search each block's scale (implied for them by an importance, the only way
 * they use one).
 */
public record Weighting(Calibration calibration, boolean scaleSearch) {
    public static final Weighting NONE = new Weighting(null, false);

    /** The importance of a weight (HF or GGUF name), or null when there is no calibration or it has no entry. */
    public float[] importance(String weightName) {
        return calibration == null ? null : calibration.importance(weightName);
    }

    /** Whether lowbit's formats search their scales. */
    public boolean searches() {
        return scaleSearch || calibration != null;
    }
}
