package dev.lowbit.quantizers.gguf;

import java.util.Locale;

/**
 * The ggml tensor types lowbit writes to GGUF, with ggml's ids, block sizes and block bytes (ggml/src/ggml.c
 * type_traits). Kept here, independent of the quantizer implementations, so recipes and sizes can be planned
 * without them.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24), Q8_0(8, 32, 34),
    Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176), Q6_K(14, 256, 210),
    IQ4_NL(20, 32, 18), IQ4_XS(23, 256, 136), BF16(30, 1, 2);

    public final int id;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
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
