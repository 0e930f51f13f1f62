package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Plain NF4/FP4 double quantization in one pass (offset given) against the two-pass path (scales, then their double
 * quantization, then the error in a second read of the source): the same bytes, and the same error up to the order of
 * additions and float32 partial sums; with the plain scales given, the one pass's bytes again. Sizes cover a partial last block and a partial last nested block, and several tasks.
 */
class DoubleQuantOnePassTest {
    @Test
    void onePassEqualsTwoPasses() {
        Random r = new Random(5);
        for (Codebook4 cb : new Codebook4[] {Codebook4.NF4, Codebook4.FP4}) {
            for (int n : new int[] {64, 64 * 256, 64 * 256 * 40 + 64 * 3 + 17, 128 * 300 + 5}) {
                for (int block : new int[] {64, 128}) {
                    float[] v = new float[n];
                    for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.02 * (1 + (i / 4096) % 7)) * (i % 97 == 0 ? 0 : 1);
                    ArraySource src = new ArraySource(v);
                    FourBit two = FourBit.quantize(src, cb, block, true, "w", null, false);
                    float[] plain = new float[(n + block - 1) / block];
                    for (int b = 0; b < plain.length; b++)
                        for (int i = b * block; i < Math.min(n, (b + 1) * block); i++) plain[b] = Math.max(plain[b], Math.abs(v[i]));
                    FourBit one = FourBit.quantize(src, cb, block, true, "w", null, false, TorchSum.mean(plain));
                    String what = cb + " n " + n + " block " + block;
                    FourBit given = FourBit.quantize(src, cb, block, true, "w", null, false, TorchSum.mean(plain), plain.clone()); // scales not read again
                    assertArrayEquals(one.packed(), given.packed(), what);
                    assertArrayEquals(one.absmax(), given.absmax(), what);
                    assertArrayEquals(one.nested().codes(), given.nested().codes(), what);
                    assertArrayEquals(two.packed(), one.packed(), what);
                    assertArrayEquals(two.absmax(), one.absmax(), what);
                    assertArrayEquals(two.nested().codes(), one.nested().codes(), what);
                    assertArrayEquals(two.nested().nestedAbsmax(), one.nested().nestedAbsmax(), what);
                    assertEquals(two.nested().offset(), one.nested().offset(), what);
                    assertEquals(two.error().count(), one.error().count(), what);
                    // NF4's one pass measures the error in float32 vector lanes (see Nf4Codes), the two-pass path in double
                    assertEquals(two.error().maxAbs(), one.error().maxAbs(), 1e-6 * two.error().maxAbs(), what);
                    assertEquals(two.error().rmse(), one.error().rmse(), 1e-5 * two.error().rmse(), what);
                    assertEquals(two.error().snrDb(), one.error().snrDb(), 1e-4, what);
                }
            }
        }
    }

    /**
     * A block whose absmax is subnormal has an infinite 1/absmax (its zeros scale to NaN): the one pass codes it as the
     * two-pass path does, byte for byte.
     */
    @Test
    void subnormalBlocksAsTwoPasses() {
        Random r = new Random(11);
        int n = 64 * 300;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.02);
        for (int b = 3; b < 300; b += 7)
            for (int i = 64 * b; i < 64 * b + 64; i++) v[i] = i % 3 == 0 ? 0f : (float) (r.nextGaussian() * 1e-39);
        ArraySource src = new ArraySource(v);
        FourBit two = FourBit.quantize(src, Codebook4.NF4, 64, true, "w", null, false);
        float[] plain = new float[n / 64];
        for (int b = 0; b < plain.length; b++)
            for (int i = 64 * b; i < 64 * b + 64; i++) plain[b] = Math.max(plain[b], Math.abs(v[i]));
        FourBit one = FourBit.quantize(src, Codebook4.NF4, 64, true, "w", null, false, TorchSum.mean(plain));
        assertArrayEquals(two.packed(), one.packed());
        assertArrayEquals(two.absmax(), one.absmax());
    }

    /**
     * The one-pass error statistics, plain scales and double-quantized ones, equal those computed here in double from
     * the source and dequantizeAll() (code value × the scale it dequantizes with).
     */
    @Test
    void errorIsMeasuredAgainstWhatDequantizes() {
        Random r = new Random(7);
        for (Codebook4 cb : new Codebook4[] {Codebook4.NF4, Codebook4.FP4}) {
            for (int n : new int[] {64 * 256 * 3 + 64 * 5 + 9, 1000}) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.02) * (i / 64 % 13 == 0 ? 0 : 1);
                float[] plain = new float[(n + 63) / 64];
                for (int i = 0; i < n; i++) plain[i / 64] = Math.max(plain[i / 64], Math.abs(v[i]));
                for (boolean dq : new boolean[] {false, true}) {
                    FourBit q = FourBit.quantize(new ArraySource(v), cb, 64, dq, "w", null, false, dq ? TorchSum.mean(plain) : Float.NaN);
                    float[] back = q.dequantizeAll();
                    double sig = 0, err = 0, max = 0;
                    for (int i = 0; i < n; i++) {
                        double e = (double) v[i] - back[i];
                        sig += (double) v[i] * v[i];
                        err += e * e;
                        max = Math.max(max, Math.abs(e));
                    }
                    String what = cb + " n " + n + (dq ? " dq" : " plain");
                    assertEquals(n, q.error().count(), what);
                    assertEquals(Math.sqrt(err / n), q.error().rmse(), 1e-5 * q.error().rmse(), what);
                    assertEquals(max, q.error().maxAbs(), 1e-6 * max, what);
                    assertEquals(Math.sqrt(err / sig), q.error().relFrobenius(), 1e-5 * q.error().relFrobenius(), what);
                }
            }
        }
    }
}
