package dev.lowbit.quantizers.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The GGUF export quantizes a tensor's row ranges in parallel: the bytes must equal those of quantizing each row on its
 * own, one after the other, through the format directly (an independent loop written here, not the export's).
 */
class GgufParallelRowsTest {
    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "IQ4_NL", "Q4_K", "Q5_K", "Q6_K"})
    void parallelRowsEqualRowByRow(String type) {
        WeightFormat f = WeightFormats.named(type);
        int rows = 333, cols = 512; // an odd row count: uneven ranges
        float[] v = new float[rows * cols];
        Random rnd = new Random(14);
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * (1 + (i % 97) / 10.0));
        int rowBytes = (int) f.rowBytes(cols);
        byte[] expected = new byte[rows * rowBytes], row = new byte[rowBytes];
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(row, (byte) 0);
            f.quantize(v, r * cols, cols, row, 0);
            System.arraycopy(row, 0, expected, r * rowBytes, rowBytes);
        }
        byte[] parallel = GgufExport.quantizeRows(f, v, rows, cols, null, true);
        assertEquals(expected.length, parallel.length);
        assertArrayEquals(expected, parallel, type);
        assertArrayEquals(expected, GgufExport.quantizeRows(f, v, rows, cols, null, false), type);
    }
}
