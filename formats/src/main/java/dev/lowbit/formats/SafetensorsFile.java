package dev.lowbit.formats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One safetensors file mapped read-only; opening reads only the header. Strictly validated. */
public final class SafetensorsFile {
    public static final long MAX_HEADER = 100_000_000L;
    private static final Set<String> NEWER_DTYPES =
            Set.of("F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64");

    private final Path path;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public Path path() {
        return path;
    }

    /** Tensors in file order (by offset). */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Maps the file into the arena (closed by its owner) and validates the header against the file. */
    public static SafetensorsFile open(Path path, Arena arena) {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FormatException(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new FormatException(path, "cannot read: " + e.getMessage());
        }
        return read(path, file);
    }

    /** The header of a whole file's bytes (mapped or not), validated against them; path only names the file. */
    static SafetensorsFile read(Path path, MemorySegment file) {
        if (file.byteSize() < 8) throw new FormatException(path, "file is " + file.byteSize() + " bytes, shorter than the 8-byte header length");
        long n = file.get(Tensor.LONG, 0);
        if (n < 0 || n > MAX_HEADER) throw new FormatException(path, "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER + " bytes");
        if (8 + n > file.byteSize()) throw new FormatException(path, "header length " + n + " runs past the end of the file (" + file.byteSize() + " bytes)");
        String header = decodeUtf8(path, file.asSlice(8, n));
        MemorySegment buffer = file.asSlice(8 + n);
        return parse(path, header, buffer);
    }

    private static String decodeUtf8(Path path, MemorySegment bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE))).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(path, "header is not valid UTF-8");
        }
    }

    private static SafetensorsFile parse(Path path, String header, MemorySegment buffer) {
        if (!header.startsWith("{")) throw new FormatException(path, "header does not start with '{'");
        JsonNode root;
        try {
            root = JsonTree.readStrict(header);
        } catch (IOException e) { // only JsonProcessingException: the header is a string
            String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(e.getMessage());
            if (msg.startsWith("Duplicate field")) throw new FormatException(path, "duplicate entry in header: " + msg.substring(msg.indexOf('\'')));
            throw new FormatException(path, "header is not valid JSON: " + firstLine(msg));
        }
        if (root == null || !root.isObject()) throw new FormatException(path, "header is not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                readMetadata(path, f.getValue(), metadata);
            } else {
                entries.add(entry(path, f.getKey(), f.getValue(), buffer.byteSize()));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        String prev = null;
        for (Entry e : entries) {
            if (e.begin > pos) throw new FormatException(path, e.name, "gap of " + (e.begin - pos) + " bytes before its data" + (prev == null ? "" : " (after '" + prev + "')"));
            if (e.begin < pos) throw new FormatException(path, e.name, "data overlaps tensor '" + prev + "'");
            pos = e.end;
            prev = e.name;
        }
        if (pos != buffer.byteSize()) throw new FormatException(path, "data area is " + buffer.byteSize() + " bytes but the tensors cover " + pos + " (" + (buffer.byteSize() - pos) + " trailing bytes)");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) tensors.put(e.name, new Tensor(e.name, e.dtype, e.shape, buffer.asSlice(e.begin, e.end - e.begin)));
        return new SafetensorsFile(path, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) throw new FormatException(path, "__metadata__ is not an object of strings");
        node.properties().iterator().forEachRemaining(m -> {
            if (!m.getValue().isTextual()) throw new FormatException(path, "__metadata__ value '" + m.getKey() + "' is not a string");
            out.put(m.getKey(), m.getValue().textValue());
        });
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static Entry entry(Path path, String name, JsonNode info, long bufferSize) {
        if (!info.isObject()) throw new FormatException(path, name, "header entry is not an object");
        JsonNode dt = info.get("dtype"), sh = info.get("shape"), off = info.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new FormatException(path, name, "missing or non-string dtype");
        DType dtype = DType.parse(dt.textValue());
        if (dtype == null) {
            String what = NEWER_DTYPES.contains(dt.textValue()) ? "dtype " + dt.textValue() + " is not supported by lowbit" : "unknown dtype '" + dt.textValue() + "'";
            throw new FormatException(path, name, what);
        }
        if (sh == null || !sh.isArray()) throw new FormatException(path, name, "missing shape");
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.longValue() < 0) throw new FormatException(path, name, "shape " + sh + " has a bad dimension");
            shape[i] = d.longValue();
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong())
            throw new FormatException(path, name, "data_offsets must be two integers");
        long begin = off.get(0).longValue(), end = off.get(1).longValue();
        if (begin < 0 || end < begin || end > bufferSize)
            throw new FormatException(path, name, "data_offsets [" + begin + ", " + end + "] outside the data area (" + bufferSize + " bytes)");
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.numel(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw new FormatException(path, name, "shape " + sh + " overflows");
        }
        if (bytes != end - begin)
            throw new FormatException(path, name, "shape " + sh + " x " + dtype + " is " + bytes + " bytes but data_offsets span " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
