package dev.lowbit.formats.gguf;

import java.util.List;

/**
 * One GGUF metadata value with its exact on-disk type. Integers of every width are held as Long (UINT64 as the same
 * 64 bits), FLOAT32/FLOAT64 as Double (a float32 converts exactly), BOOL as Boolean, STRING as String, and ARRAY as a
 * List of element values in the same representation, with elementType saying their on-disk type.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        if (type == null || value == null) throw new IllegalArgumentException("GGUF value needs a type and a value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) throw new IllegalArgumentException("only arrays have an element type");
    }

    public static GgufValue u32(long v) { return new GgufValue(GgufValueType.UINT32, null, v); }
    public static GgufValue i32(long v) { return new GgufValue(GgufValueType.INT32, null, v); }
    public static GgufValue u64(long v) { return new GgufValue(GgufValueType.UINT64, null, v); }
    public static GgufValue f32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, (double) v); }
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    public static GgufValue str(String v) { return new GgufValue(GgufValueType.STRING, null, v); }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    public long asLong() {
        if (value instanceof Long l) return l;
        throw new IllegalStateException("GGUF value of type " + type + " is not an integer");
    }

    public double asDouble() {
        if (value instanceof Double d) return d;
        if (value instanceof Long l) return l;
        throw new IllegalStateException("GGUF value of type " + type + " is not a number");
    }

    public String asString() {
        if (value instanceof String s) return s;
        throw new IllegalStateException("GGUF value of type " + type + " is not a string");
    }

    public boolean asBoolean() {
        if (value instanceof Boolean b) return b;
        throw new IllegalStateException("GGUF value of type " + type + " is not a bool");
    }

    public List<?> asList() {
        if (value instanceof List<?> l) return l;
        throw new IllegalStateException("GGUF value of type " + type + " is not an array");
    }
}
