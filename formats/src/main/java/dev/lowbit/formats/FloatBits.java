package dev.lowbit.formats;

/** Exact conversions between float32 and the narrow float formats (F16, BF16, F8 E4M3FN and E5M2). */
public final class FloatBits {
    private FloatBits() {}

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** IEEE round-to-nearest-even, overflow to infinity, NaN kept NaN. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round-to-nearest-even on the upper 16 bits; NaN stays a quiet NaN with its sign. */
    public static short floatToBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) return (short) ((b >>> 16) | 0x0040);
        int rounded = b + 0x7fff + ((b >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** F8 E4M3FN: bias 7, no infinities, S.1111.111 is NaN, max 448. */
    public static float e4m3ToFloat(byte v) {
        int b = v & 0xff;
        int sign = b >>> 7, exp = (b >>> 3) & 0xf, man = b & 0x7;
        float mag;
        if (exp == 0xf && man == 0x7) return Float.NaN;
        if (exp == 0) mag = man * 0x1p-9f;
        else mag = Math.scalb(1f + man / 8f, exp - 7);
        return sign == 1 ? -mag : mag;
    }

    /** F8 E5M2: bias 15, IEEE-like with infinities and NaNs; the upper byte of an F16. */
    public static float e5m2ToFloat(byte v) {
        return Float.float16ToFloat((short) ((v & 0xff) << 8));
    }
}
