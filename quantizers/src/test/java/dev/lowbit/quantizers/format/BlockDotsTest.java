package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The lane sum is the tree written out here (lanes i and i + L/2, then i and i + L/4, ...): lanes of very different
 * magnitudes make every other order a different float.
 */
class BlockDotsTest {
    @Test
    void laneSumIsTheTree() {
        int l = BlockDots.lanes();
        Random r = new Random(3);
        for (int rep = 0; rep < 200; rep++) {
            float[] lanes = new float[l];
            for (int i = 0; i < l; i++) lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
            float[] w = lanes.clone();
            for (int step = l / 2; step >= 1; step /= 2)
                for (int i = 0; i < step; i++) w[i] = w[i] + w[i + step];
            assertEquals(Float.floatToRawIntBits(w[0]), Float.floatToRawIntBits(BlockDots.sum(lanes)));
        }
    }

    /** Q4_0 decoded in lanes gives the scalar decoder's floats, for random blocks (any scale bits) at any offset. */
    @Test
    void q4_0RowsAreTheScalarDecode() {
        Random r = new Random(5);
        for (int blocks : new int[] {1, 2, 7, 24}) {
            byte[] raw = new byte[3 + 18 * blocks];
            r.nextBytes(raw);
            MemorySegment src = MemorySegment.ofArray(raw);
            float[] want = new float[5 + 32 * blocks], got = new float[want.length];
            Q4_0.dequantizeScalar(src, 3, 32 * blocks, want, 5);
            BlockDots.q4_0Rows(src, 3, 32 * blocks, got, 5);
            for (int i = 0; i < want.length; i++)
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), blocks + " blocks, value " + i);
        }
    }
}
