package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * make_q3_quants for Q3Lanes.GROUPS groups in lanes against the scalar twin (GgmlReferenceTest holds that one to
 * llama.cpp): the same scale bits and quants per group over random groups of many magnitudes, all-zero and near-zero
 * groups, groups whose largest magnitude comes with both signs, and integer-valued groups (ties for nearest_int);
 * and Q3_K rows made both ways, with and without importance.
 */
class Q3LanesTest {
    @Test
    void eachLaneIsTheScalarSearch() {
        assumeTrue(Q3Lanes.USABLE, "vectors of 8 or 16 floats");
        Random r = new Random(31);
        Q3Lanes.Scratch s = new Q3Lanes.Scratch();
        int groups = Q3Lanes.GROUPS;
        for (int rep = 0; rep < 2000; rep++) {
            float[] x = new float[5 + groups * 16];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(10) - 6));
            int g = r.nextInt(groups);
            switch (rep % 6) {
                case 0 -> Arrays.fill(x, 5 + 16 * g, 5 + 16 * g + 16, 0f);
                case 1 -> Arrays.fill(x, 5 + 16 * g, 5 + 16 * g + 16, 1e-16f);
                case 2 -> {
                    x[5 + 16 * g + 3] = -2f;
                    x[5 + 16 * g + 11] = 2f;
                }
                case 3 -> { for (int i = 0; i < 16; i++) x[5 + 16 * g + i] = r.nextInt(9) - 4; }
                default -> {}
            }
            int[] want = new int[3 + 16 * groups], got = new int[3 + 16 * groups];
            float[] scales = new float[2 + groups];
            Q3Lanes.run(x, 5, got, 3, scales, 2, s);
            for (int j = 0; j < groups; j++) {
                float scale = GgmlQuants.makeQ3Quants(16, 4, x, 5 + 16 * j, want, 3 + 16 * j, true);
                assertEquals(Float.floatToIntBits(scale), Float.floatToIntBits(scales[2 + j]), "rep " + rep + " group " + j);
            }
            assertArrayEquals(want, got, "rep " + rep);
        }
    }

    @Test
    void q3_kRowsAreTheScalarBytes() {
        assumeTrue(Q3Lanes.USABLE && BlockDots.USABLE, "vectors of 8 or 16 floats");
        QxLanesTest.sameBytesBothWays(new Random(37), 4096, 110, (row, dst, importance, lanes) -> Q3_K.quantize(row, 0, row.length, dst, 3, importance, 0, lanes));
    }
}
