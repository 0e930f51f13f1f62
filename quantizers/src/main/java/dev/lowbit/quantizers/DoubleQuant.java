package dev.lowbit.quantizers;

/**
 * QLoRA double quantization of per-block absmax values as bitsandbytes' CUDA kernels do it: subtract their float32
 * mean (nested_offset, {@link TorchSum}), quantize blockwise (256) to 8 bits with the signed dynamic map by
 * {@link DynamicMap#quantize} (dQuantize), keep a float32 absmax per nested block.
 */
public record DoubleQuant(byte[] codes, float[] nestedAbsmax, float offset) {
    public static final int NESTED_BLOCK = 256;

    public static DoubleQuant of(float[] absmax) {
        float offset = TorchSum.mean(absmax); // bitsandbytes: torch's float32 absmax.mean(), its order of additions

        float[] map = DynamicMap.signed();
        int blocks = (absmax.length + NESTED_BLOCK - 1) / NESTED_BLOCK;
        byte[] codes = new byte[absmax.length];
        float[] nested = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int lo = b * NESTED_BLOCK, hi = Math.min(absmax.length, lo + NESTED_BLOCK);
            float m = 0;
            for (int i = lo; i < hi; i++) m = Math.max(m, Math.abs(absmax[i] - offset));
            nested[b] = m;
            float inv = 1f / m; // kQuantizeBlockwise: x · (1/absmax); 0 · ∞ = NaN codes as dQuantize decides
            for (int i = lo; i < hi; i++) codes[i] = (byte) DynamicMap.quantize(map, (absmax[i] - offset) * inv);
        }
        return new DoubleQuant(codes, nested, offset);
    }

    /** absmax[i] = map[q[i]] · nestedAbsmax[i/256] + offset */
    public float[] absmax() {
        float[] map = DynamicMap.signed();
        float[] out = new float[codes.length];
        for (int i = 0; i < out.length; i++) out[i] = map[codes[i] & 0xff] * nestedAbsmax[i / NESTED_BLOCK] + offset;
        return out;
    }
}
