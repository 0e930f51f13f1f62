package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link DynamicMap#signedCode} is bitsandbytes' binary search ({@link DynamicMap#quantize}) on every input tried. */
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
}
