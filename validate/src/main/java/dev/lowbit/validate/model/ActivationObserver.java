package dev.lowbit.validate.model;

import dev.lowbit.kernels.Weights;

/** Called with a linear weight and its input rows [n × cols] before each multiply (the input is not to be changed). */
public interface ActivationObserver {
    void observe(Weights weight, float[] input, int n);
}
