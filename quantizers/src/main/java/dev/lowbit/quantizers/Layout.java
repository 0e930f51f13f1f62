package dev.lowbit.quantizers;

import java.util.Locale;

/** How quantized tensors are named and stored. */
public enum Layout {
    /** What transformers + bitsandbytes write and load. */
    HF_BNB,
    /**
     * lowbit's self-describing form: each quantized weight one U8 tensor [rows, row bytes] of its format's blocks
     * ({@link dev.lowbit.quantizers.format.WeightFormats#lowbit}), and a __metadata__ entry "lowbit:NAME" with the
     * scheme, block, source dtype and logical shape.
     */
    LOWBIT;

    /** Version of the lowbit layout ("lowbit.format" in __metadata__): 2 = one tensor of blocks per weight. */
    public static final int LOWBIT_FORMAT = 2;

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
