package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A row of several K-quant super-blocks encodes as each super-block alone (llama.cpp quantizes them independently; one
 * super-block alone is what GgmlReferenceTest holds to llama-quantize): Q4_K and Q5_K search two super-blocks' groups
 * at once, so rows of 1 to 5 super-blocks (odd counts end with one alone), with and without an importance, plus Q2_K
 * and Q6_K, whose lanes split or fill a super-block's groups by the vector width.
 */
class KQuantRowsTest {
    @Test
    void aRowIsItsSuperBlocksAlone() {
        Random r = new Random(31);
        for (String name : new String[] {"Q4_K", "Q5_K", "Q2_K", "Q6_K"}) {
            WeightFormat f = WeightFormats.named(name);
            for (int blocks = 1; blocks <= 5; blocks++) {
                for (boolean weighted : new boolean[] {false, true}) {
                    int n = 256 * blocks;
                    float[] row = new float[n + 7], importance = weighted ? new float[n + 3] : null;
                    for (int b = 0; b < blocks; b++) {
                        double mag = Math.pow(10, r.nextInt(6) - 4);
                        for (int i = 0; i < 256; i++) row[7 + 256 * b + i] = (float) (r.nextGaussian() * mag * (i % 37 == 0 ? 20 : 1));
                    }
                    if (weighted) for (int i = 0; i < n; i++) importance[3 + i] = r.nextFloat();
                    byte[] whole = new byte[5 + blocks * f.blockBytes()], alone = whole.clone();
                    f.quantize(row, 7, n, whole, 5, importance, 3);
                    for (int b = 0; b < blocks; b++)
                        f.quantize(row, 7 + 256 * b, 256, alone, 5 + b * f.blockBytes(), importance, 3 + 256 * b);
                    assertArrayEquals(alone, whole, name + ", " + blocks + " super-blocks" + (weighted ? ", weighted" : ""));
                }
            }
        }
    }
}
