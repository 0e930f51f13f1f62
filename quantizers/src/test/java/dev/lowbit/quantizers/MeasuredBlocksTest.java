package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quantizers.format.LaneEncoders;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * lowbit's block formats encoded and measured in one call (the quantize with an error accumulator: nf4 and int4 in
 * their own vector passes, the others by decoding again) against the plain encoder and an error taken by decoding its
 * bytes again: the same bytes, the same count, and the same error up to float32 partial sums. Rows have all-zero
 * blocks, blocks of subnormal values, constant blocks, all-positive and all-negative blocks and blocks scaled from
 * 1e-30 to 1e4, for block sizes of 32 to 128; as a small job (int4 decoded again) and a large one (int4 in lanes).
 */
class MeasuredBlocksTest {
    @Test
    void measuredRowsEqualEncodedAndDecodedRows() {
        try {
            for (long job : new long[] {0, LaneEncoders.MIN_WEIGHTS}) {
                LaneEncoders.forJob(job);
                measuredRowsEqualEncodedAndDecodedRows(new Random(12));
            }
        } finally {
            LaneEncoders.forJob(LaneEncoders.MIN_WEIGHTS);
        }
    }

    private static void measuredRowsEqualEncodedAndDecodedRows(Random r) {
        for (String scheme : new String[] {"nf4", "fp4", "int4", "int4-asym", "int8-block"}) {
            for (int block : new int[] {32, 64, 128}) {
                int cols = block * 37;
                WeightFormat f = WeightFormats.lowbit(scheme, block, cols);
                for (int row = 0; row < 20; row++) {
                    float[] v = new float[cols + 5];
                    for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.02 * (1 + row % 4));
                    for (int b = row % 3; b < 37; b += 5) {
                        int kind = (b / 5 + row) % 6;
                        double scale = Math.pow(10, r.nextInt(35) - 30);
                        for (int i = 5 + b * block; i < 5 + (b + 1) * block; i++)
                            v[i] = switch (kind) {
                                case 0 -> 0f;
                                case 1 -> i % 3 == 0 ? 0f : (float) (r.nextGaussian() * 1e-40);
                                case 2 -> 0.37f;
                                case 3 -> (float) Math.abs(r.nextGaussian() * scale);
                                case 4 -> (float) -Math.abs(r.nextGaussian() * scale) - 1f;
                                default -> (float) (r.nextGaussian() * scale);
                            };
                    }
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
