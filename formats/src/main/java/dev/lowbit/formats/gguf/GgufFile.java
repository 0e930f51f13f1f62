package dev.lowbit.formats.gguf;

import dev.lowbit.formats.FormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.RandomAccess;

/**
 * One GGUF file (llama.cpp's format, versions 2 and 3) mapped read-only. Opening parses the header, metadata and
 * tensor infos and validates them against the file: every count is checked against the bytes left before anything
 * is allocated, and each problem ends in one {@link FormatException} naming the file.
 */
public final class GgufFile {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final int MAX_DIMS = 4;
    /** Smallest possible tensor info: name length, 1-byte name, n_dims, one dimension, type, offset. */
    static final int MIN_TENSOR_INFO = 8 + 1 + 4 + 8 + 4 + 8;
    /** Smallest possible key/value: key length, 1-byte key, value type, 1-byte value. */
    static final int MIN_KV = 8 + 1 + 4 + 1;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final LinkedHashMap<String, GgufValue> metadata;
    private final List<GgufTensor> tensors;
    private final Map<String, GgufTensor> byName;

    private GgufFile(Path path, int version, int alignment, long dataOffset, LinkedHashMap<String, GgufValue> metadata,
                     List<GgufTensor> tensors) {
        this.path = path;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, GgufTensor> m = new LinkedHashMap<>();
        for (GgufTensor t : tensors) m.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(m);
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section (tensor offsets are relative to it). */
    public long dataOffset() {
        return dataOffset;
    }

    /** Metadata in file order (a copy: changing it does not change the file). */
    public LinkedHashMap<String, GgufValue> metadata() {
        return new LinkedHashMap<>(metadata);
    }

    /** One metadata value, or null when the key is absent. */
    public GgufValue value(String key) {
        return metadata.get(key);
    }

    /** Tensors in file order (the order of the tensor infos). */
    public List<GgufTensor> tensors() {
        return tensors;
    }

    /** The tensor with this name, or null. */
    public GgufTensor tensor(String name) {
        return byName.get(name);
    }

    /** A string metadata value, or null when absent; another type is a FormatException. */
    public String string(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (v.type() != GgufValueType.STRING) throw new FormatException(path, "metadata '" + key + "' is " + v.type() + ", expected STRING");
        return v.asString();
    }

    /** An integer metadata value, or null when absent; another type is a FormatException. */
    public Long integer(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (!v.type().isInteger()) throw new FormatException(path, "metadata '" + key + "' is " + v.type() + ", expected an integer");
        return v.asLong();
    }

    /** A numeric metadata value (integer or float), or null when absent; another type is a FormatException. */
    public Double number(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (!(v.value() instanceof Long) && !(v.value() instanceof Double))
            throw new FormatException(path, "metadata '" + key + "' is " + v.type() + ", expected a number");
        return v.asDouble();
    }

    /** A bool metadata value, or null when absent; another type is a FormatException. */
    public Boolean bool(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (v.type() != GgufValueType.BOOL) throw new FormatException(path, "metadata '" + key + "' is " + v.type() + ", expected BOOL");
        return v.asBoolean();
    }

    /** An array metadata value, or null when absent; another type (or element type, when given) is a FormatException. */
    public List<?> array(String key, GgufValueType... elementTypes) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (v.type() != GgufValueType.ARRAY) throw new FormatException(path, "metadata '" + key + "' is " + v.type() + ", expected an array");
        if (elementTypes.length > 0 && !Arrays.asList(elementTypes).contains(v.elementType()))
            throw new FormatException(path, "metadata '" + key + "' is an array of " + v.elementType() + ", expected " + Arrays.toString(elementTypes));
        return v.asList();
    }

    /** True when the path names a GGUF file (by extension). */
    public static boolean isGguf(Path p) {
        Path f = p.getFileName();
        return f != null && f.toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** Maps the file into the arena (closed by its owner) and validates everything but the tensor bytes. */
    public static GgufFile open(Path path, Arena arena) {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) throw new FormatException(path, "file is empty, not a GGUF file");
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new FormatException(path, "cannot read: " + e.getMessage());
        }
        return new Parser(path, file).parse();
    }

    private static final class Parser {
        final Path path;
        final MemorySegment file;
        final long size;
        final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        long pos;

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
            this.size = file.byteSize();
        }

        FormatException fail(String problem) {
            return new FormatException(path, problem);
        }

        long remaining() {
            return size - pos;
        }

        void need(long n, String what) {
            if (n > size - pos)
                throw fail("truncated: " + what + " at offset " + pos + " needs " + n + " bytes but the file ends at " + size);
        }

        int u32(String what) {
            need(4, what);
            int v = file.get(INT, pos);
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = file.get(LONG, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long n = u64(what + " length");
            if (n < 0 || n > remaining())
                throw fail(what + " at offset " + (pos - 8) + " claims " + Long.toUnsignedString(n) + " bytes but only " + remaining() + " remain in the file");
            if (n > Integer.MAX_VALUE - 16) throw fail(what + " at offset " + (pos - 8) + " is " + n + " bytes, too long for a string");
            String s;
            try {
                s = utf8.decode(file.asSlice(pos, n).asByteBuffer()).toString();
            } catch (CharacterCodingException e) {
                throw fail(what + " at offset " + pos + " is not valid UTF-8");
            }
            pos += n;
            return s;
        }

        GgufFile parse() {
            need(4, "magic");
            int magic = file.get(INT, 0);
            if (magic != MAGIC) throw fail("not a GGUF file: magic is '" + printable(file.asSlice(0, 4)) + "', expected 'GGUF'");
            pos = 4;
            int version = u32("version");
            if (version == 1) throw fail("GGUF version 1 is obsolete and not supported (lowbit reads versions 2 and 3)");
            if (version != 0 && (version & 0xFFFF) == 0)
                throw fail("GGUF version field is 0x" + Integer.toHexString(version) + ": a big-endian file? lowbit reads little-endian GGUF only");
            if (version != 2 && version != 3)
                throw fail("unsupported GGUF version " + Integer.toUnsignedString(version) + " (lowbit reads versions 2 and 3)");
            long nTensors = u64("tensor count");
            long nKv = u64("metadata count");
            long left = remaining();
            if (nKv < 0 || nKv > left / MIN_KV)
                throw fail("metadata count " + Long.toUnsignedString(nKv) + " cannot fit in the " + left + " bytes after the header (each entry takes at least " + MIN_KV + ")");
            if (nTensors < 0 || nTensors > left / MIN_TENSOR_INFO)
                throw fail("tensor count " + Long.toUnsignedString(nTensors) + " cannot fit in the " + left + " bytes after the header (each tensor info takes at least " + MIN_TENSOR_INFO + ")");

            LinkedHashMap<String, GgufValue> metadata = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                long at = pos;
                String key = string("metadata key " + i);
                if (key.isEmpty()) throw fail("metadata key " + i + " at offset " + at + " is empty");
                if (metadata.containsKey(key)) throw fail("duplicate metadata key '" + key + "'");
                metadata.put(key, value(key));
            }

            int alignment = DEFAULT_ALIGNMENT;
            GgufValue a = metadata.get(ALIGNMENT_KEY);
            if (a != null) {
                if (a.type() != GgufValueType.UINT32) throw fail("'" + ALIGNMENT_KEY + "' must be UINT32, not " + a.type());
                long v = a.asLong();
                if (v == 0 || (v & (v - 1)) != 0) throw fail("'" + ALIGNMENT_KEY + "' is " + v + ", not a power of two");
                alignment = (int) v;
            }

            List<Info> infos = new ArrayList<>();
            Map<String, Info> names = new HashMap<>();
            for (long i = 0; i < nTensors; i++) {
                Info info = tensorInfo(i, alignment);
                if (names.put(info.name, info) != null) throw fail("duplicate tensor name '" + info.name + "'");
                infos.add(info);
            }

            long dataOffset = (pos + alignment - 1) / alignment * alignment;
            long dataSize = size - dataOffset;
            if (!infos.isEmpty() && dataOffset > size)
                throw fail("truncated: the data section would start at offset " + dataOffset + " but the file ends at " + size);
            for (Info t : infos) {
                if (t.offset > dataSize || t.bytes > dataSize - t.offset)
                    throw new FormatException(path, t.name, "data [" + t.offset + ", " + (t.offset + t.bytes) + ") runs past the end of the data section (" + Math.max(0, dataSize) + " bytes)");
            }
            List<Info> sorted = new ArrayList<>(infos);
            sorted.sort(Comparator.comparingLong((Info t) -> t.offset).thenComparingLong(t -> t.bytes));
            Info prev = null;
            for (Info t : sorted) {
                if (prev != null && t.offset < prev.offset + prev.bytes)
                    throw new FormatException(path, t.name, "data [" + t.offset + ", " + (t.offset + t.bytes) + ") overlaps tensor '" + prev.name + "' [" + prev.offset + ", " + (prev.offset + prev.bytes) + ")");
                prev = t;
            }
            List<GgufTensor> tensors = new ArrayList<>(infos.size());
            for (Info t : infos) {
                long[] shape = new long[t.dims.length];
                for (int d = 0; d < shape.length; d++) shape[d] = t.dims[shape.length - 1 - d];
                tensors.add(new GgufTensor(t.name, t.type, t.dims, shape, t.offset, file.asSlice(dataOffset + t.offset, t.bytes)));
            }
            return new GgufFile(path, version, alignment, dataOffset, metadata, tensors);
        }

        private record Info(String name, long[] dims, int type, long offset, long bytes) {}

        private Info tensorInfo(long i, int alignment) {
            String name = string("name of tensor " + i);
            int nDims = u32("number of dimensions of tensor '" + name + "'");
            if (nDims <= 0 || nDims > MAX_DIMS)
                throw new FormatException(path, name, "has " + Integer.toUnsignedString(nDims) + " dimensions (must be 1 to " + MAX_DIMS + ")");
            long[] dims = new long[nDims];
            long numel = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = u64("dimension " + d + " of tensor '" + name + "'");
                if (dims[d] <= 0)
                    throw new FormatException(path, name, "dimension " + d + " is " + Long.toUnsignedString(dims[d]) + (dims[d] == 0 ? " (empty tensors are not supported)" : ", too large"));
                try {
                    numel = Math.multiplyExact(numel, dims[d]);
                } catch (ArithmeticException e) {
                    throw new FormatException(path, name, "dimensions " + dimString(dims, d + 1) + " overflow a 64-bit element count");
                }
            }
            int typeId = u32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.of(Integer.toUnsignedLong(typeId));
            if (type == null) throw new FormatException(path, name, "unknown ggml type " + Integer.toUnsignedString(typeId));
            if (type.removed()) throw new FormatException(path, name, "ggml type " + typeId + " (" + type.name() + ") was removed from ggml and cannot be read");
            if (dims[0] % type.blockSize() != 0)
                throw new FormatException(path, name, "rows of " + dims[0] + " elements are not a multiple of the " + type.name() + " block of " + type.blockSize());
            long bytes;
            try {
                bytes = Math.multiplyExact(numel / type.blockSize(), (long) type.blockBytes());
            } catch (ArithmeticException e) {
                throw new FormatException(path, name, "dimensions " + dimString(dims, nDims) + " of " + type.name() + " overflow a 64-bit byte count");
            }
            long offset = u64("data offset of tensor '" + name + "'");
            if (offset < 0) throw new FormatException(path, name, "data offset " + Long.toUnsignedString(offset) + " is beyond any file");
            if (offset % alignment != 0)
                throw new FormatException(path, name, "data offset " + offset + " is not a multiple of the alignment " + alignment);
            return new Info(name, dims, typeId, offset, bytes);
        }

        private GgufValue value(String key) {
            String what = "value of '" + key + "'";
            int typeId = u32("value type of '" + key + "'");
            GgufValueType type = GgufValueType.of(Integer.toUnsignedLong(typeId));
            if (type == null) throw fail("metadata '" + key + "' has unknown value type " + Integer.toUnsignedString(typeId));
            if (type != GgufValueType.ARRAY) return new GgufValue(type, null, scalar(type, what));
            int elemId = u32("array element type of '" + key + "'");
            GgufValueType elem = GgufValueType.of(Integer.toUnsignedLong(elemId));
            if (elem == null) throw fail("metadata '" + key + "' is an array of unknown value type " + Integer.toUnsignedString(elemId));
            if (elem == GgufValueType.ARRAY) throw fail("metadata '" + key + "' is an array of arrays: nested arrays are not supported");
            long n = u64("array length of '" + key + "'");
            long min = elem == GgufValueType.STRING ? 8 : elem.size;
            if (n < 0 || n > remaining() / min)
                throw fail("metadata '" + key + "' claims " + Long.toUnsignedString(n) + " " + elem + " elements but only " + remaining() + " bytes remain in the file");
            int count = (int) n;
            List<?> list = switch (elem) {
                case STRING -> {
                    String[] s = new String[count];
                    for (int j = 0; j < count; j++) s[j] = string("element " + j + " of '" + key + "'");
                    yield List.of(s);
                }
                case BOOL -> {
                    Boolean[] b = new Boolean[count];
                    for (int j = 0; j < count; j++) b[j] = file.get(ValueLayout.JAVA_BYTE, pos + j) != 0;
                    pos += count;
                    yield List.of(b);
                }
                case FLOAT32, FLOAT64 -> {
                    double[] d = new double[count];
                    for (int j = 0; j < count; j++) {
                        d[j] = elem == GgufValueType.FLOAT32 ? file.get(FLOAT, pos) : file.get(DOUBLE, pos);
                        pos += elem.size;
                    }
                    yield new Doubles(d);
                }
                default -> {
                    long[] v = new long[count];
                    for (int j = 0; j < count; j++) {
                        v[j] = integer(elem, pos);
                        pos += elem.size;
                    }
                    yield new Longs(v);
                }
            };
            return new GgufValue(GgufValueType.ARRAY, elem, list);
        }

        private Object scalar(GgufValueType type, String what) {
            return switch (type) {
                case STRING -> string(what);
                case BOOL -> {
                    need(1, what);
                    yield file.get(ValueLayout.JAVA_BYTE, pos++) != 0;
                }
                case FLOAT32 -> {
                    need(4, what);
                    double d = file.get(FLOAT, pos);
                    pos += 4;
                    yield d;
                }
                case FLOAT64 -> {
                    need(8, what);
                    double d = file.get(DOUBLE, pos);
                    pos += 8;
                    yield d;
                }
                default -> {
                    need(type.size, what);
                    long v = integer(type, pos);
                    pos += type.size;
                    yield v;
                }
            };
        }

        private long integer(GgufValueType type, long at) {
            return switch (type) {
                case UINT8 -> file.get(ValueLayout.JAVA_BYTE, at) & 0xFFL;
                case INT8 -> file.get(ValueLayout.JAVA_BYTE, at);
                case UINT16 -> file.get(SHORT, at) & 0xFFFFL;
                case INT16 -> file.get(SHORT, at);
                case UINT32 -> file.get(INT, at) & 0xFFFFFFFFL;
                case INT32 -> file.get(INT, at);
                case UINT64, INT64 -> file.get(LONG, at);
                default -> throw new IllegalStateException(type.toString());
            };
        }

        private static String dimString(long[] dims, int n) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append(Long.toUnsignedString(dims[i]));
            return b.append(']').toString();
        }

        private static String printable(MemorySegment s) {
            StringBuilder b = new StringBuilder();
            for (byte c : s.toArray(ValueLayout.JAVA_BYTE)) b.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
            return b.toString();
        }
    }

    /** An immutable list view of a long[] (array metadata of integers, boxed on access). */
    private static final class Longs extends AbstractList<Long> implements RandomAccess {
        private final long[] v;

        Longs(long[] v) {
            this.v = v;
        }

        @Override
        public Long get(int i) {
            return v[i];
        }

        @Override
        public int size() {
            return v.length;
        }
    }

    private static final class Doubles extends AbstractList<Double> implements RandomAccess {
        private final double[] v;

        Doubles(double[] v) {
            this.v = v;
        }

        @Override
        public Double get(int i) {
            return v[i];
        }

        @Override
        public int size() {
            return v.length;
        }
    }
}
