package dev.lowbit.validate.model;

import dev.lowbit.kernels.Weights;

/**
 * One decoder block. Either q/k/v are separate or `qkv` is fused (then q = k = v = null). Norm biases are null for
 * RMSNorm; `gate` is null for a plain (non-gated) MLP.
 */
record Layer(float[] norm1, float[] norm1Bias, Weights qkv, Weights q, Weights k, Weights v,
             float[] qkvBias, float[] qBias, float[] kBias, float[] vBias, Weights o, float[] oBias,
             float[] norm2, float[] norm2Bias, Weights gate, Weights up, float[] upBias, Weights down, float[] downBias) {}
