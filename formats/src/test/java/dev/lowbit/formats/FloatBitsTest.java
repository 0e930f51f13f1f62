package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Decoders against the IEEE-style formula computed independently; encoders against a wide-precision reference. */
class FloatBitsTest {
    /** Value of a sign/exponent/mantissa pattern by the textbook formula, in double. */
    static double formula(int bits, int expBits, int manBits, boolean ieeeSpecials) {
        int sign = bits >>> (expBits + manBits) & 1, exp = bits >>> manBits & ((1 << expBits) - 1), man = bits & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        double v;
        if (ieeeSpecials && exp == (1 << expBits) - 1) v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (exp == 0) v = man * Math.pow(2, 1 - bias - manBits);
        else v = (1 + man / Math.pow(2, manBits)) * Math.pow(2, exp - bias);
        return sign == 1 ? -v : v;
    }

    @Test
    void f16AndBf16DecodeEveryPattern() {
        for (int b = 0; b < 65536; b++) {
            assertEquals(formula(b, 5, 10, true), FloatBits.f16ToFloat((short) b), 0.0, "f16 " + b);
            assertEquals(formula(b, 8, 7, true), FloatBits.bf16ToFloat((short) b), 0.0, "bf16 " + b);
        }
    }

    @Test
    void f8DecodeEveryPattern() {
        for (int b = 0; b < 256; b++) {
            double e4m3 = (b & 0x7f) == 0x7f ? Double.NaN : formula(b, 4, 3, false);
            assertEquals(e4m3, FloatBits.e4m3ToFloat((byte) b), 0.0, "e4m3 " + b);
            assertEquals(formula(b, 5, 2, true), FloatBits.e5m2ToFloat((byte) b), 0.0, "e5m2 " + b);
        }
        assertEquals(448f, FloatBits.e4m3ToFloat((byte) 0x7e));
        assertEquals(57344f, FloatBits.e5m2ToFloat((byte) 0x7b));
    }

    @Test
    void bf16RoundsToNearestEven() {
        Random r = new Random(1);
        for (int i = 0; i < 1_000_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f)) {
                assertEquals(true, Float.isNaN(FloatBits.bf16ToFloat(FloatBits.floatToBf16(f))));
                continue;
            }
            int top = Float.floatToRawIntBits(f) >>> 16;
            double lo = formula(top, 8, 7, true);
            double hi = formula(top + 1 & 0xffff, 8, 7, false); // one step away from zero; 2^128 stands for infinity
            double got = FloatBits.bf16ToFloat(FloatBits.floatToBf16(f));
            double dLo = Math.abs(f - lo), dHi = Math.abs(hi - f);
            double want = dLo < dHi ? lo : dHi < dLo ? hi : ((top & 1) == 0 ? lo : hi);
            if (Math.abs(want) == 0x1p128) want = Math.copySign(Double.POSITIVE_INFINITY, want);
            assertEquals(want, got, 0.0, "bf16 of " + f);
        }
    }
}
