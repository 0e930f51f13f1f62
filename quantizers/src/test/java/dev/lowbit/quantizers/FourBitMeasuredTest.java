package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * lowbit's nf4 blocks encoded and measured in one pass (the quantize with an error accumulator) against the plain
 * encoder and an error taken by decoding its bytes again: the same bytes, the same count, and the same error up to
 * float32 partial sums; rows with all-zero blocks, subnormal-absmax blocks and a partial row of blocks; fp4 (the
 * decode-and-compare path) alike.
 */
class FourBitMeasuredTest {
    @Test
    void measuredRowsEqualEncodedAndDecodedRows() {
        Random r = new Random(12);
        for (String scheme : new String[] {"nf4", "fp4"}) {
            for (int block : new int[] {32, 64, 128}) {
                int cols = block * 37;
                WeightFormat f = WeightFormats.lowbit(scheme, block, cols);
                for (int row = 0; row < 20; row++) {
                    float[] v = new float[cols + 5];
                    for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.02 * (1 + row % 4));
                    for (int b = row % 3; b < 37; b += 5)
                        for (int i = 5 + b * block; i < 5 + (b + 1) * block; i++) v[i] = b % 2 == 0 ? 0f : (i % 3 == 0 ? 0f : (float) (r.nextGaussian() * 1e-40));
                    int bytes = Math.toIntExact(f.rowBytes(cols));
                    byte[] want = new byte[bytes + 3], got = new byte[bytes + 3];
                    f.quantize(v, 5, cols, want, 3);
                    float[] back = new float[cols];
                    f.dequantize(MemorySegment.ofArray(want), 3, cols, back, 0);
                    QuantError.Acc decoded = new QuantError.Acc(), measured = new QuantError.Acc();
                    for (int i = 0; i < cols; i++) decoded.add(v[5 + i], back[i]);
                    f.quantize(v, 5, cols, got, 3, null, 0, new float[cols], measured);
                    String what = scheme + " block " + block + " row " + row;
                    assertArrayEquals(want, got, what);
                    QuantError a = decoded.result(), b = measured.result();
                    assertEquals(a.count(), b.count(), what);
                    assertEquals(a.maxAbs(), b.maxAbs(), 1e-6 * a.maxAbs(), what);
                    assertEquals(a.rmse(), b.rmse(), 1e-5 * a.rmse(), what);
                    assertEquals(a.snrDb(), b.snrDb(), 1e-4, what);
                }
            }
        }
    }
}
