package dev.lowbit.quantizers;

/** One tensor of a quantization run: what happened to it, its bytes before and after, and its error (null if kept). */
public record TensorReport(String name, String action, long[] shape, long bytesIn, long bytesOut, QuantError error) {}
