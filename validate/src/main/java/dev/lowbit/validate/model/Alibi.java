package dev.lowbit.validate.model;

/**
 * BLOOM's ALiBi slopes, computed in float32 as transformers' build_alibi_tensor does. A scale other than 1 interpolates
 * the slopes (scale = L_train / L for evaluation at length L), lowbit's option beyond plain extrapolation.
 */
public final class Alibi {
    private Alibi() {}

    public static float[] slopes(int heads, double scale) {
        float[] s = slopes(heads);
        for (int i = 0; i < s.length; i++) s[i] = (float) (s[i] * scale);
        return s;
    }

    public static float[] slopes(int heads) {
        int p = Integer.highestOneBit(heads);
        float base = (float) Math.pow(2, -Math.pow(2, -(log2(p) - 3)));
        float[] s = new float[heads];
        for (int h = 0; h < p; h++) s[h] = (float) Math.pow(base, h + 1);
        if (p != heads) {
            float extra = (float) Math.pow(2, -Math.pow(2, -(log2(2 * p) - 3)));
            for (int k = 0; k < heads - p; k++) s[p + k] = (float) Math.pow(extra, 2 * k + 1);
        }
        return s;
    }

    private static double log2(int n) {
        return 31 - Integer.numberOfLeadingZeros(n);
    }
}
