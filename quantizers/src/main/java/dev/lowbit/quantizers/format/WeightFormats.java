package dev.lowbit.quantizers.format;

import dev.lowbit.quantizers.Codebook4;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The registry of weight formats: one line per format. */
public final class WeightFormats {
    private WeightFormats() {}

    private static final List<WeightFormat> ALL = List.of(
            new F32(),
            new F16(),
            new Bf16(),
            new Q4_0(),
            new Q4_1(),
            new Q5_0(),
            new Q5_1(),
            new Q8_0(),
            new Q2_K(),
            new Q3_K(),
            new Q4_K(),
            new Q5_K(),
            new Q6_K(),
            new Iq4Nl(),
            new Iq4Xs());

    /** A lowbit format, made for a block size and a row length (the int8 rows format has one block per row). */
    public interface Sized {
        WeightFormat of(int block, int cols);
    }

    /** lowbit's own formats, by scheme name (lowbit layout): one line each. */
    private static final Map<String, Sized> LOWBIT = Map.of(
            "nf4", (block, cols) -> new FourBitBlocks(Codebook4.NF4, block),
            "fp4", (block, cols) -> new FourBitBlocks(Codebook4.FP4, block),
            "int4", (block, cols) -> new Int4Blocks(block, false),
            "int4-asym", (block, cols) -> new Int4Blocks(block, true),
            "int8", (block, cols) -> new Int8Rows(cols),
            "int8-block", (block, cols) -> named("Q8_0"));

    private static final Map<String, WeightFormat> BY_NAME = new LinkedHashMap<>();
    private static final WeightFormat[] BY_GGML = new WeightFormat[64];

    static {
        for (WeightFormat f : ALL) {
            BY_NAME.put(f.name().toUpperCase(Locale.ROOT), f);
            if (f.ggmlType() >= 0) BY_GGML[f.ggmlType()] = f;
        }
    }

    public static List<WeightFormat> all() {
        return ALL;
    }

    /** The format with this GGUF type id, or null when lowbit does not know it. */
    public static WeightFormat ggml(long id) {
        return id >= 0 && id < BY_GGML.length ? BY_GGML[(int) id] : null;
    }

    /** The lowbit-layout format of a scheme (nf4, fp4, int4, int4-asym, int8, int8-block), or null when unknown. */
    public static WeightFormat lowbit(String scheme, int block, int cols) {
        Sized s = LOWBIT.get(scheme);
        return s == null ? null : s.of(block, cols);
    }

    /** The format with this name (any case), or null. */
    public static WeightFormat named(String name) {
        return BY_NAME.get(name.toUpperCase(Locale.ROOT));
    }
}
