package dev.lowbit.quantizers.calib;

/** Activation statistics of every linear weight's input, from calibration text. */
public interface Calibration {
    /**
     * Mean of x² per input column over the calibration tokens (llama.cpp's importance), or null if the weight was not
     * seen. Key: the HF tensor name, e.g. "model.layers.0.self_attn.q_proj.weight" (GGUF names such as
     * "blk.0.attn_q.weight" are accepted too).
     */
    float[] importance(String weightName);

    /** The input second moment XᵀX / tokens as a full cols × cols row-major matrix, or null when not collected. */
    double[] hessian(String weightName);

    /** Tokens the statistics were collected over. */
    long tokens();
}
