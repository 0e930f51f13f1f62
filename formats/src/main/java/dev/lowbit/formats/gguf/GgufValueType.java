package dev.lowbit.formats.gguf;

/** GGUF metadata value types, by their on-disk ids (gguf_type in ggml/include/gguf.h). */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Bytes of one value on disk; -1 for strings and arrays. */
    public final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    public int id() {
        return ordinal();
    }

    /** The type with this on-disk id, or null when the id is unknown. */
    public static GgufValueType of(long id) {
        return id >= 0 && id < values().length ? values()[(int) id] : null;
    }

    public boolean isInteger() {
        return this != FLOAT32 && this != FLOAT64 && this != BOOL && this != STRING && this != ARRAY;
    }
}
