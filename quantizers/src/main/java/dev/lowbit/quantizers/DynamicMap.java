package dev.lowbit.quantizers;

import java.util.Arrays;

/** bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), in float32 as torch builds it. */
public final class DynamicMap {
    private DynamicMap() {}

    private static final float[] SIGNED = build();

    public static float[] signed() {
        return SIGNED.clone();
    }

    private static float[] build() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            float[] b = linspace(0.1f, 1f, (1 << i) + 1);
            float scale = (float) Math.pow(10, -(7 - 1) + i);
            for (int j = 0; j + 1 < b.length; j++) {
                float mean = (b[j] + b[j + 1]) / 2.0f;
                data[n++] = scale * mean;
                data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1.0f;
        Arrays.sort(data, 0, n);
        return data;
    }

    /** torch.linspace in float32: start + i·step for the first half, end − (steps−1−i)·step for the rest. */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - i - 1);
        return out;
    }

    /** Index of the nearest map value (ties to the lower index); the map is sorted ascending. */
    public static int nearest(float[] map, float x) {
        int i = Arrays.binarySearch(map, x);
        if (i >= 0) return i;
        int hi = -i - 1;
        if (hi == 0) return 0;
        if (hi == map.length) return map.length - 1;
        return x - map[hi - 1] <= map[hi] - x ? hi - 1 : hi;
    }
}
