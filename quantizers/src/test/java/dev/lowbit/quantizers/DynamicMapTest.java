package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link DynamicMap#signedCode} and its lanes ({@link DynamicMap#signedCodes}) are bitsandbytes' binary search
 * ({@link DynamicMap#quantize}) on every input tried.
 */
class DynamicMapTest {
    static void same(float[] map, float x) {
        assertEquals(DynamicMap.quantize(map, x), DynamicMap.signedCode(x), () -> "x = " + x + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
    }

    @Test
    void everyEntryAndMidpointAndTheirNeighbours() {
        float[] map = DynamicMap.signed();
        for (int i = 0; i < 256; i++) {
            float[] around = i < 255 ? new float[] {map[i], (map[i] + map[i + 1]) * 0.5f} : new float[] {map[i]};
            for (float a : around)
                for (float x = Math.nextDown(Math.nextDown(a)), k = 0; k < 5; k++, x = Math.nextUp(x)) same(map, x);
        }
        for (float x : new float[] {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
                Float.MIN_VALUE, -Float.MIN_VALUE, 2f, -2f, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f})
            same(map, x);
    }

    @Test
    void aSweepOverAllFloatBitPatterns() {
        float[] map = DynamicMap.signed();
        for (long b = 0; b < 1L << 32; b += 251) same(map, Float.intBitsToFloat((int) b)); // 17M patterns, a prime stride
    }

    /** The lanes on values given as they are (offset 0, inv 1), against the search, a value at a time. */
    static void lanesSame(float[] map, float[] x) {
        byte[] codes = new byte[x.length];
        DynamicMap.signedCodes(x, 0, x.length, 0f, 1f, codes);
        for (int i = 0; i < x.length; i++) {
            float v = x[i];
            int want = DynamicMap.quantize(map, v);
            if (want != (codes[i] & 0xff)) assertEquals(want, codes[i] & 0xff, () -> "x = " + v + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(v)) + ")");
        }
    }

    /** Every entry and midpoint of the map and two floats either side, the special values, and a sweep over all float bit patterns. */
    @Test
    void lanesOnEveryEntryMidpointAndASweep() {
        float[] map = DynamicMap.signed();
        float[] near = new float[255 * 2 * 5 + 5 + 14];
        int k = 0;
        for (int i = 0; i < 256; i++)
            for (float a : i < 255 ? new float[] {map[i], (map[i] + map[i + 1]) * 0.5f} : new float[] {map[i]})
                for (float x = Math.nextDown(Math.nextDown(a)), j = 0; j < 5; j++, x = Math.nextUp(x)) near[k++] = x;
        for (float x : new float[] {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
                Float.MIN_VALUE, -Float.MIN_VALUE, 2f, -2f, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f})
            near[k++] = x;
        lanesSame(map, java.util.Arrays.copyOf(near, k));
        float[] sweep = new float[1 << 20];
        for (long b = 0, i = 0; b < 1L << 32; b += 4093, i++) {
            sweep[(int) (i % sweep.length)] = Float.intBitsToFloat((int) b);
            if (i % sweep.length == sweep.length - 1) lanesSame(map, sweep);
        }
    }

    /**
     * Nested blocks as double quantization makes them (block scales less their mean, times 1/max): entries and
     * midpoints moved by an offset, all-zero blocks (0 · ∞ = NaN), subnormal maxima (±∞ and NaN), stray NaN, infinite
     * and random-bit values, at every start and length around the vector width; the codes outside [lo, hi) untouched.
     */
    @Test
    void lanesOnNestedBlocks() {
        float[] map = DynamicMap.signed();
        Random r = new Random(3);
        for (int round = 0; round < 400; round++) {
            int n = 1 + r.nextInt(300);
            float[] x = new float[n + 3];
            float offset = round % 7 == 0 ? 0 : (float) Math.exp(r.nextGaussian() - 4);
            for (int i = 0; i < x.length; i++) {
                x[i] = switch (round % 5) {
                    case 0 -> map[r.nextInt(256)] + offset;
                    case 1 -> (map[Math.min(254, r.nextInt(256))] + map[Math.min(255, r.nextInt(256))]) * 0.5f + offset;
                    case 2 -> round % 2 == 0 ? offset : offset + (float) (r.nextGaussian() * 1e-40);
                    default -> (float) Math.exp(r.nextGaussian() * 0.6 - 4);
                };
                if (r.nextInt(50) == 0)
                    x[i] = switch (r.nextInt(4)) {
                        case 0 -> Float.NaN;
                        case 1 -> Float.POSITIVE_INFINITY;
                        case 2 -> Float.NEGATIVE_INFINITY;
                        default -> Float.intBitsToFloat(r.nextInt());
                    };
            }
            int lo = r.nextInt(3), hi = lo + n;
            float m = 0;
            for (int i = lo; i < hi; i++) m = Math.max(m, Math.abs(x[i] - offset));
            float inv = round % 3 == 0 ? 1f : 1f / m;
            byte[] codes = new byte[x.length];
            java.util.Arrays.fill(codes, (byte) 0x5a);
            DynamicMap.signedCodes(x, lo, hi, offset, inv, codes);
            for (int i = 0; i < x.length; i++) {
                int expect = i < lo || i >= hi ? 0x5a : DynamicMap.quantize(map, (x[i] - offset) * inv), at = i;
                assertEquals(expect, codes[i] & 0xff, () -> "x = " + x[at] + " offset " + offset + " inv " + inv + " at " + at);
            }
        }
    }

    /** A tensor with enough block scales for the lanes: its double quantization codes each scale as the search does. */
    @Test
    void doubleQuantOfALargeTensorCodesAsTheSearch() {
        float[] map = DynamicMap.signed();
        Random r = new Random(8);
        float[] absmax = new float[DoubleQuant.LANES_FROM + 300];
        for (int i = 0; i < absmax.length; i++) absmax[i] = i / 256 == 7 ? 0.01f : (float) Math.exp(r.nextGaussian() * 0.5 - 4);
        DoubleQuant dq = DoubleQuant.of(absmax);
        for (int i = 0; i < absmax.length; i++) {
            int at = i, want = DynamicMap.quantize(map, (absmax[i] - dq.offset()) * (1f / dq.nestedAbsmax()[i / DoubleQuant.NESTED_BLOCK]));
            if (want != (dq.codes()[i] & 0xff)) assertEquals(want, dq.codes()[i] & 0xff, () -> "scale " + at);
        }
    }
}
