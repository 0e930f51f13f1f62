package dev.lowbit.quantizers.gguf;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * llama.cpp's file types (llama_ftype, written as {@code general.file_type}) that lowbit produces, with the default
 * tensor type of each (llama_ftype_get_default_type). F32, F16 and BF16 are what convert_hf_to_gguf.py writes
 * ({@code --outtype}); the others are what llama-quantize makes from the converter's F32 file.
 */
public enum GgufFileType {
    F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16),
    Q8_0(7, GgmlType.Q8_0), Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
    IQ4_NL(25, GgmlType.IQ4_NL), IQ4_XS(30, GgmlType.IQ4_XS),
    Q2_K(10, GgmlType.Q2_K), Q3_K_S(11, GgmlType.Q3_K), Q3_K_M(12, GgmlType.Q3_K), Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K), Q4_K_M(15, GgmlType.Q4_K), Q5_K_S(16, GgmlType.Q5_K), Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K);

    /** The {@code general.file_type} value. */
    public final int id;
    public final GgmlType defaultType;

    GgufFileType(int id, GgmlType defaultType) {
        this.id = id;
        this.defaultType = defaultType;
    }

    /** Written by the converter (float types) rather than by llama-quantize. */
    public boolean byConverter() {
        return !defaultType.quantized();
    }

    /** The file type with this name, any case ("q4_k_m", "Q4_K_M"); a clear error listing the known ones otherwise. */
    public static GgufFileType parse(String s) {
        String n = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (GgufFileType t : values()) if (t.name().equals(n)) return t;
        throw new IllegalArgumentException("unknown GGUF scheme '" + s + "'; known: "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
}
