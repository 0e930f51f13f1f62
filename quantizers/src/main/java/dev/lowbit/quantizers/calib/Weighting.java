package dev.lowbit.quantizers.calib;

/**
 * How a quantization run uses calibration: the importance of each weight's input columns (null calibration: none),
 * whether lowbit's own 4-bit formats search each block's scale (implied for them by an importance, the only way
 * they use one), and the importance matrix file as the user named it (--imatrix), which GGUF files record.
 */
public record Weighting(Calibration calibration, boolean scaleSearch, String imatrixFile) {
    public static final Weighting NONE = new Weighting(null, false);

    /** Without a file name: a calibration made in this run, or one whose file is not recorded. */
    public Weighting(Calibration calibration, boolean scaleSearch) {
        this(calibration, scaleSearch, null);
    }

    /** The importance of a weight (HF or GGUF name), or null when there is no calibration or it has no entry. */
    public float[] importance(String weightName) {
        return calibration == null ? null : calibration.importance(weightName);
    }

    /** Whether lowbit's formats search their scales. */
    public boolean searches() {
        return scaleSearch || calibration != null;
    }
}
