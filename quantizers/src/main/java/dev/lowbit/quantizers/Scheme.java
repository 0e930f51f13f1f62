package dev.lowbit.quantizers;

import java.util.Locale;

/** The quantization schemes, by their command-line names. */
public enum Scheme {
    FP16, BF16, INT8, INT8_BLOCK, INT4, INT4_ASYM, NF4, FP4;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Scheme parse(String s) {
        for (Scheme x : values()) if (x.cliName().equals(s.toLowerCase(Locale.ROOT))) return x;
        throw new IllegalArgumentException("unknown scheme '" + s + "' (fp16, bf16, int8, int8-block, int4, int4-asym, nf4, fp4)");
    }

    public boolean isHalf() {
        return this == FP16 || this == BF16;
    }

    /** Whether transformers + bitsandbytes can load this scheme (layout hf-bnb). */
    public boolean hasBnbLayout() {
        return this == INT8 || this == NF4 || this == FP4;
    }
}
