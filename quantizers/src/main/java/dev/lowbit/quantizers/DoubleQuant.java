package dev.lowbit.quantizers;

/**
 * QLoRA double quantization of per-block absmax values as bitsandbytes' CUDA kernels do it: subtract their float32
 * mean (nested_offset, {@link TorchSum}), quantize blockwise (256) to 8 bits with the signed dynamic map by
 * {@link DynamicMap#quantize} (dQuantize), keep a float32 absmax per nested block.
 */
public record DoubleQuant(byte[] codes, float[] nestedAbsmax, float offset) {
    public static final int NESTED_BLOCK = 256;
    /**
     * Block scales of a tensor from which its nested blocks are coded in vector lanes ({@link DynamicMap#signedCodes}):
     * 1.1 ns a scale instead of 14 (JMH DoubleQuantBench), for about 40 ms of compiling a process. A 1.1B model's MLP
     * weights (180K scales each, 12M of its 15M) take the lanes, and its NF4 + double quant takes as long as before end
     * to end (the compiling costs what the lanes save on two cores); a 7B model's 100M scales save about 1.3 s of CPU.
     * An 82M model's tensors (at most 49K scales) stay scalar: in lanes its export took 0.95 s instead of 0.90.
     */
    static final int LANES_FROM = 1 << 17;

    public static DoubleQuant of(float[] absmax) {
        float offset = TorchSum.mean(absmax); // bitsandbytes: torch's float32 absmax.mean(), its order of additions

        int blocks = (absmax.length + NESTED_BLOCK - 1) / NESTED_BLOCK;
        byte[] codes = new byte[absmax.length];
        float[] nested = new float[blocks];
        Blocks.parallel(blocks, 256, (b0, b1) -> { // nested blocks are independent; dQuantize's search is the cost
            for (int b = b0; b < b1; b++) group(absmax, b, offset, codes, nested);
        });
        return new DoubleQuant(codes, nested, offset);
    }

    /**
     * Nested block g: absmax[256g, 256g+256) less the offset, quantized to codes[...] with its max |·| in nested[g]
     * (by {@link DynamicMap#signedCodes}, the signed map's dQuantize in vector lanes).
     */
    static void group(float[] absmax, int g, float offset, byte[] codes, float[] nested) {
        int lo = g * NESTED_BLOCK, hi = Math.min(absmax.length, lo + NESTED_BLOCK);
        float m = 0;
        for (int i = lo; i < hi; i++) m = Math.max(m, Math.abs(absmax[i] - offset));
        nested[g] = m;
        float inv = 1f / m; // kQuantizeBlockwise: x · (1/absmax); 0 · ∞ = NaN codes as dQuantize decides
        if (absmax.length >= LANES_FROM) DynamicMap.signedCodes(absmax, lo, hi, offset, inv, codes);
        else for (int i = lo; i < hi; i++) codes[i] = (byte) DynamicMap.signedCode((absmax[i] - offset) * inv);
    }

    /** The scale block i dequantizes with: map[q[i]] · nestedAbsmax[i/256] + offset, as {@link #absmax()}. */
    static float scale(float[] map, byte[] codes, float[] nested, float offset, int i) {
        return map[codes[i] & 0xff] * nested[i / NESTED_BLOCK] + offset;
    }

    /** absmax[i] = map[q[i]] · nestedAbsmax[i/256] + offset */
    public float[] absmax() {
        float[] map = DynamicMap.signed();
        float[] out = new float[codes.length];
        for (int i = 0; i < out.length; i++) out[i] = scale(map, codes, nestedAbsmax, offset, i);
        return out;
    }
}
