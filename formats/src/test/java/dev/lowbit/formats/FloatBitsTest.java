package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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

    /** The vector BF16 decode straight from bytes: every pattern, at an odd byte offset, with a scalar tail. */
    @Test
    void bf16VectorDecodeEveryPatternFromBytes() {
        int n = 65536 + 5;
        MemorySegment seg = MemorySegment.ofArray(new byte[2 * n + 1]);
        for (int i = 0; i < n; i++) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1 + 2L * i, (short) (i * 40503));
        float[] out = new float[n + 3];
        FloatBits.bf16ToFloats(seg, 1, out, 3, n);
        for (int i = 0; i < n; i++) {
            int b = (i * 40503) & 0xffff;
            double want = formula(b, 8, 7, true);
            if (Double.isNaN(want)) assertEquals(b << 16, Float.floatToRawIntBits(out[3 + i]), "bf16 NaN " + b + " keeps its bits");
            else assertEquals(want, out[3 + i], 0.0, "bf16 " + b);
        }
    }

    /** The largest magnitude bits of 16-bit floats against a plain loop, over lengths around the vector length. */
    @Test
    void maxMagnitudeOfHalvesEqualsAPlainLoop() {
        Random r = new Random(4);
        for (int n = 0; n < 70; n++) {
            short[] h = new short[n];
            for (int i = 0; i < n; i++) h[i] = (short) r.nextInt(1 << 16);
            MemorySegment seg = MemorySegment.ofArray(new byte[2 * n + 2]);
            for (int i = 0; i < n; i++) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 + 2L * i, h[i]);
            int want = 0;
            for (short x : h) want = Math.max(want, x & 0x7fff);
            assertEquals(want, FloatBits.maxMagnitude16(seg, 2, n), "n " + n);
        }
    }

    /**
     * Whether any magnitude exceeds a limit, against a plain loop: one value above (or at) the limit at every position of
     * lengths around four and the vector length, each 16-bit pattern of it, at an odd byte offset, for the two limits
     * in use and the extremes.
     */
    @Test
    void anyMagnitudeAboveEqualsAPlainLoop() {
        Random r = new Random(5);
        for (int limit : new int[] {0x7f80, 0x7c00, 0, 0x7ffe}) {
            for (int n = 0; n < 40; n++) {
                for (int at = 0; at < Math.max(1, n); at++) {
                    MemorySegment seg = MemorySegment.ofArray(new byte[2 * n + 3]);
                    short[] h = new short[n];
                    for (int i = 0; i < n; i++) h[i] = (short) ((r.nextBoolean() ? 0x8000 : 0) | r.nextInt(limit + 1)); // at or below
                    if (n > 0) h[at] = (short) ((r.nextBoolean() ? 0x8000 : 0) | (limit + r.nextInt(2))); // at the limit or just above
                    for (int i = 0; i < n; i++) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1 + 2L * i, h[i]);
                    boolean want = false;
                    for (short x : h) want |= (x & 0x7fff) > limit;
                    assertEquals(want, FloatBits.anyMagnitudeAbove(seg, 1, n, limit), "limit " + limit + " n " + n + " at " + at);
                }
            }
            for (int b = 0; b < 65536; b++) {
                MemorySegment seg = MemorySegment.ofArray(new byte[8]);
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * (b & 3), (short) b);
                assertEquals((b & 0x7fff) > limit, FloatBits.anyMagnitudeAbove(seg, 0, 4, limit), "limit " + limit + " bits " + b);
            }
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
