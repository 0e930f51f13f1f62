package dev.lowbit.quantizers;

import java.util.Locale;

/** A 4-bit code: 16 values indexed by nibble, and bitsandbytes' decision rule from a scaled value to a nibble. */
public enum Codebook4 {
    /** QLoRA NormalFloat: bitsandbytes get_4bit_type("nf4"). */
    NF4(new float[] {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f}),
    /** bitsandbytes FP4 (E2M1), in bit-pattern order; entry 8 (the negative zero pattern) is +0.0 as get_4bit_type writes it. */
    FP4(new float[] {0f, 0.0625f / 12, 8f / 12, 12f / 12, 4f / 12, 6f / 12, 2f / 12, 3f / 12,
            0f, -0.0625f / 12, -8f / 12, -12f / 12, -4f / 12, -6f / 12, -2f / 12, -3f / 12});

    /** dQuantizeNF4's pivots in bitsandbytes' kernels, low to high: code = how many pivots x exceeds (ties go low). */
    static final float[] NF4_PIVOTS = {-0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f,
            -0.33967943489551544f, -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f,
            0.03979014977812767f, 0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f,
            0.3893125355243683f, 0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

    private final float[] values;

    Codebook4(float[] values) {
        this.values = values;
    }

    public float value(int code) {
        return values[code];
    }

    public float[] table() {
        return values.clone();
    }

    /** The nibble for a value already scaled into [-1, 1]. */
    public int code(float x) {
        if (this == NF4) {
            int c = x > NF4_PIVOTS[7] ? 8 : 0; // binary search: the number of pivots x exceeds, in 4 comparisons
            if (x > NF4_PIVOTS[c + 3]) c += 4;
            if (x > NF4_PIVOTS[c + 1]) c += 2;
            if (x > NF4_PIVOTS[c]) c += 1;
            return c;
        }
        return fp4Code(x);
    }

    /** dQuantizeFP4: a tree over |x| with strict '>' at the midpoints, the sign in bit 3. */
    private static int fp4Code(float x) {
        int sign = x < 0 ? 0b1000 : 0;
        float a = Math.abs(x);
        int c;
        if (a > 0.29166667f) c = a > 0.583333f ? (a > 0.8333333f ? 0b011 : 0b010) : (a > 0.4166667f ? 0b101 : 0b100);
        else c = a > 0.0859375f ? (a > 0.20833333f ? 0b0111 : 0b0110) : (a > 0.00260417f ? 0b0001 : 0b0000);
        return c | sign;
    }

    public String bnbName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
