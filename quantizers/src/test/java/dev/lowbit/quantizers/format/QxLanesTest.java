package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * make_qx_quants for QxLanes.GROUPS groups in lanes (8 or 16, the machine's vector width) against the scalar twin (GgmlReferenceTest holds that one to llama.cpp):
 * the same scale bits and quants per group, over random groups of many magnitudes, all-zero and near-zero groups,
 * groups whose largest magnitude comes with both signs, and Q6_K rows made both ways (with and without importance).
 */
class QxLanesTest {
    @Test
    void eachLaneIsTheScalarSearch() {
        assumeTrue(QxLanes.USABLE, "vectors of 8 or 16 floats");
        Random r = new Random(23);
        QxLanes.Scratch s = new QxLanes.Scratch(16);
        for (int rep = 0; rep < 300; rep++) {
            int groups = QxLanes.GROUPS;
            float[] x = new float[5 + groups * 16];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(10) - 6));
            int g = r.nextInt(groups);
            if (rep % 5 == 0) java.util.Arrays.fill(x, 5 + 16 * g, 5 + 16 * g + 16, 0f);
            if (rep % 5 == 1) java.util.Arrays.fill(x, 5 + 16 * g, 5 + 16 * g + 16, 1e-16f);
            if (rep % 5 == 2) {
                x[5 + 16 * g + 3] = -2f;
                x[5 + 16 * g + 11] = 2f;
            }
            int[] want = new int[3 + 16 * groups], got = new int[3 + 16 * groups];
            float[] scales = new float[2 + groups];
            QxLanes.run(16, 32, x, 5, got, 3, scales, 2, s);
            for (int j = 0; j < groups; j++) {
                float scale = GgmlQuants.makeQxQuants(16, 32, x, 5 + 16 * j, want, 3 + 16 * j, 1);
                assertEquals(Float.floatToIntBits(scale), Float.floatToIntBits(scales[2 + j]), "rep " + rep + " group " + j);
            }
            assertArrayEquals(want, got, "rep " + rep);
        }
    }

    @Test
    void q6_kRowsAreTheScalarBytes() {
        assumeTrue(QxLanes.USABLE, "vectors of 8 or 16 floats");
        sameBytesBothWays(new Random(29), 2048, 210, (row, dst, importance, lanes) -> Q6_K.quantize(row, 0, row.length, dst, 3, importance, 0, lanes));
    }

    interface RowEncoder {
        void encode(float[] row, byte[] dst, float[] importance, boolean lanes);
    }

    /** A random row of n values encoded with and without lanes (at dst offset 3), the same bytes, with and without importance. */
    static void sameBytesBothWays(Random r, int n, int blockBytes, RowEncoder e) {
        float[] row = new float[n];
        for (int i = 0; i < row.length; i++) row[i] = (float) (r.nextGaussian() * 0.02 * (1 + (i / 256) % 4));
        byte[] lanes = new byte[3 + n / 256 * blockBytes], scalar = new byte[lanes.length];
        e.encode(row, lanes, null, true);
        e.encode(row, scalar, null, false);
        assertArrayEquals(scalar, lanes);
        float[] importance = new float[row.length];
        for (int i = 0; i < importance.length; i++) importance[i] = r.nextFloat();
        e.encode(row, lanes, importance, true);
        e.encode(row, scalar, importance, false);
        assertArrayEquals(scalar, lanes, "with an importance");
    }
}
