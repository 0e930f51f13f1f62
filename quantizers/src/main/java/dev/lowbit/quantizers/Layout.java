package dev.lowbit.quantizers;

import java.util.Locale;

/** How quantized tensors are named and stored. */
public enum Layout {
    /** What transformers + bitsandbytes write and load. */
    HF_BNB,
    /** lowbit's self-describing form: packed data, scales, zeros, and a __metadata__ entry per tensor. */
    LOWBIT;

    public static Layout parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "hf-bnb" -> HF_BNB;
            case "lowbit" -> LOWBIT;
            default -> throw new IllegalArgumentException("unknown layout '" + s + "' (hf-bnb, lowbit)");
        };
    }

    public String cliName() {
        return this == HF_BNB ? "hf-bnb" : "lowbit";
    }
}
