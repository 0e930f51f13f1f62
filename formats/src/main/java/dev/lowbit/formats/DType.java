package dev.lowbit.formats;

/** The safetensors dtypes, with element size and whether values decode to float. */
public enum DType {
    BOOL(1, false), U8(1, false), I8(1, false), F8_E5M2(1, true), F8_E4M3(1, true),
    I16(2, false), U16(2, false), F16(2, true), BF16(2, true),
    I32(4, false), U32(4, false), F32(4, true),
    F64(8, true), I64(8, false), U64(8, false);

    private final int size;
    private final boolean floating;

    DType(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    public int size() {
        return size;
    }

    public boolean isFloating() {
        return floating;
    }

    /** Parses a safetensors dtype name; null when unknown. */
    public static DType parse(String name) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The torch name used in config.json ("bfloat16", "float16", "float32"...). */
    public String torchName() {
        return switch (this) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case F32 -> "float32";
            case F64 -> "float64";
            case BOOL -> "bool";
            case F8_E4M3 -> "float8_e4m3fn";
            case F8_E5M2 -> "float8_e5m2";
            case U8, U16, U32, U64 -> "uint" + name().substring(1);
            case I8, I16, I32, I64 -> "int" + name().substring(1);
        };
    }
}
