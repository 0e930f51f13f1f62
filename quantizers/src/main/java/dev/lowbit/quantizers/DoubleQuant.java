package dev.lowbit.quantizers;

/**
 * QLoRA double quantization of per-block absmax values: subtract their mean (nested_offset), quantize blockwise
 * (256) to 8 bits with the signed dynamic map, keep a float32 absmax per nested block.
 */
public record DoubleQuant(byte[] codes, float[] nestedAbsmax, float offset) {
    public static final int NESTED_BLOCK = 256;

    public static DoubleQuant of(float[] absmax) {
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = (float) (sum / absmax.length);
        float[] map = DynamicMap.signed();
        int blocks = (absmax.length + NESTED_BLOCK - 1) / NESTED_BLOCK;
        byte[] codes = new byte[absmax.length];
        float[] nested = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int lo = b * NESTED_BLOCK, hi = Math.min(absmax.length, lo + NESTED_BLOCK);
            float m = 0;
            for (int i = lo; i < hi; i++) m = Math.max(m, Math.abs(absmax[i] - offset));
            nested[b] = m;
            float inv = m == 0 ? 0 : 1f / m;
            for (int i = lo; i < hi; i++) codes[i] = (byte) DynamicMap.nearest(map, (absmax[i] - offset) * inv);
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
