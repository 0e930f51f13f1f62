package dev.lowbit.formats.gguf;

import java.util.HashMap;
import java.util.Map;

/**
 * A ggml tensor type by its on-disk id (enum ggml_type, ggml/include/ggml.h), with the block geometry of
 * ggml.c's type_traits: {@code blockSize} elements take {@code blockBytes} bytes. Every type ggml defines is listed,
 * including ones lowbit cannot decode, so that any file can be read and inspected; ids ggml has removed are known
 * by name only ({@link #removed()}).
 */
public record GgmlType(int id, String name, int blockSize, int blockBytes) {

    private static final Map<Integer, GgmlType> BY_ID = new HashMap<>();
    private static final Map<String, GgmlType> BY_NAME = new HashMap<>();

    static {
        add(0, "F32", 1, 4);
        add(1, "F16", 1, 2);
        add(2, "Q4_0", 32, 18);
        add(3, "Q4_1", 32, 20);
        add(4, "Q4_2", 0, 0);
        add(5, "Q4_3", 0, 0);
        add(6, "Q5_0", 32, 22);
        add(7, "Q5_1", 32, 24);
        add(8, "Q8_0", 32, 34);
        add(9, "Q8_1", 32, 40);
        add(10, "Q2_K", 256, 84);
        add(11, "Q3_K", 256, 110);
        add(12, "Q4_K", 256, 144);
        add(13, "Q5_K", 256, 176);
        add(14, "Q6_K", 256, 210);
        add(15, "Q8_K", 256, 292);
        add(16, "IQ2_XXS", 256, 66);
        add(17, "IQ2_XS", 256, 74);
        add(18, "IQ3_XXS", 256, 98);
        add(19, "IQ1_S", 256, 50);
        add(20, "IQ4_NL", 32, 18);
        add(21, "IQ3_S", 256, 110);
        add(22, "IQ2_S", 256, 82);
        add(23, "IQ4_XS", 256, 136);
        add(24, "I8", 1, 1);
        add(25, "I16", 1, 2);
        add(26, "I32", 1, 4);
        add(27, "I64", 1, 8);
        add(28, "F64", 1, 8);
        add(29, "IQ1_M", 256, 56);
        add(30, "BF16", 1, 2);
        add(31, "Q4_0_4_4", 0, 0);
        add(32, "Q4_0_4_8", 0, 0);
        add(33, "Q4_0_8_8", 0, 0);
        add(34, "TQ1_0", 256, 54);
        add(35, "TQ2_0", 256, 66);
        add(36, "IQ4_NL_4_4", 0, 0);
        add(37, "IQ4_NL_4_8", 0, 0);
        add(38, "IQ4_NL_8_8", 0, 0);
        add(39, "MXFP4", 32, 17);
        add(40, "NVFP4", 64, 36);
        add(41, "Q1_0", 128, 18);
    }

    private static void add(int id, String name, int blockSize, int blockBytes) {
        GgmlType t = new GgmlType(id, name, blockSize, blockBytes);
        BY_ID.put(id, t);
        BY_NAME.put(name, t);
    }

    /** The type with this id, or null when ggml has never defined it. */
    public static GgmlType of(long id) {
        return id < 0 || id > Integer.MAX_VALUE ? null : BY_ID.get((int) id);
    }

    /** The type with this name (F16, Q4_K, …), or null. */
    public static GgmlType named(String name) {
        return BY_NAME.get(name);
    }

    /** The name of this id ("type 99" when unknown). */
    public static String nameOf(long id) {
        GgmlType t = of(id);
        return t == null ? "type " + id : t.name;
    }

    /** An id ggml once used and has since removed (repacked or obsolete types): no file may hold it. */
    public boolean removed() {
        return blockSize == 0;
    }

    /** Bytes of a row of {@code n} elements; n must be a multiple of the block size. */
    public long rowBytes(long n) {
        return n / blockSize * blockBytes;
    }

    @Override
    public String toString() {
        return name;
    }
}
