package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.validate.model.Alibi;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BLOOM's slopes from the published construction, computed here in double: 2^(−8h/P), then 2^(−4(2k−1)/P) when n > P.
 * transformers raises a float32 base to the power h, so its relative error grows with h: tolerance (h + 1)·2^−24.
 */
class AlibiSlopesTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 6, 8, 12, 16, 24, 32, 40, 96, 112})
    void slopesFollowTheConstruction(int n) {
        int p = Integer.highestOneBit(n);
        double[] want = new double[n];
        for (int h = 1; h <= p; h++) want[h - 1] = Math.pow(2, -8.0 * h / p);
        for (int k = 1; k <= n - p; k++) want[p + k - 1] = Math.pow(2, -4.0 * (2 * k - 1) / p);
        float[] got = Alibi.slopes(n);
        for (int i = 0; i < n; i++) {
            int power = i < p ? i + 1 : 2 * (i - p) + 1;
            assertEquals(want[i], got[i], (power + 1) * 0x1p-24 * want[i], "head " + i + " of " + n);
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.125, 0.5, 2})
    void scaleMultipliesEverySlope(double s) {
        float[] b = Alibi.slopes(12, s);
        // 12 heads: P = 8, slopes 2^(−h) for h = 1..8, then 2^(−(2k−1)/2) for k = 1..4, each times s
        for (int i = 0; i < 12; i++) {
            double want = (i < 8 ? Math.pow(2, -(i + 1)) : Math.pow(2, -(2 * (i - 8) + 1) / 2.0)) * s;
            assertEquals(want, b[i], 4 * 0x1p-24 * want, "head " + i);
        }
    }
}
