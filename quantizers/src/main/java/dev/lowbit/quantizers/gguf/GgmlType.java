package dev.lowbit.quantizers.gguf;

import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.util.Locale;

/**
 * The ggml tensor types llama.cpp's file-type recipes choose from, by name: the vocabulary of {@link GgufRecipe}. The
 * id and block geometry of each come from its weight format in {@link WeightFormats} (one place per format), so a
 * format enters here only when a recipe picks it.
 */
public enum GgmlType {
    F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16;

    public final int id;
    public final int blockSize;
    public final int blockBytes;
    private final WeightFormat format;

    GgmlType() {
        WeightFormat f = WeightFormats.named(name());
        if (f == null || f.ggmlType() < 0) throw new IllegalStateException("no registered ggml weight format " + name());
        this.id = f.ggmlType();
        this.blockSize = f.blockSize();
        this.blockBytes = f.blockBytes();
        this.format = f;
    }

    /** The weight format that encodes this type. */
    public WeightFormat format() {
        return format;
    }

    /** ggml_is_quantized: every type but the plain floats. */
    public boolean quantized() {
        return this != F32 && this != F16 && this != BF16;
    }

    /** Bytes of one row of ne0 elements (ggml_row_size); ne0 must be a multiple of the block size. */
    public long rowBytes(long ne0) {
        if (ne0 % blockSize != 0) throw new IllegalArgumentException(name() + " needs rows that are a multiple of " + blockSize + ", got " + ne0);
        return ne0 / blockSize * blockBytes;
    }

    /** Bytes of a tensor with these ggml dims. */
    public long bytes(long[] ne) {
        long rows = 1;
        for (int i = 1; i < ne.length; i++) rows = Math.multiplyExact(rows, ne[i]);
        return Math.multiplyExact(rows, rowBytes(ne[0]));
    }

    public static GgmlType named(String name) {
        for (GgmlType t : values()) if (t.name().equalsIgnoreCase(name)) return t;
        return null;
    }

    public static GgmlType of(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        throw new IllegalArgumentException("unknown ggml type id " + id);
    }

    @Override
    public String toString() {
        return name().toUpperCase(Locale.ROOT);
    }
}
