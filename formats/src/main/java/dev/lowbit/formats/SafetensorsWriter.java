package dev.lowbit.formats;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streams tensors into safetensors files: order as the reference writer (descending dtype size, then name),
 * header padded with spaces to 8 bytes, temp file renamed on success; identical input gives identical bytes.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    static final Comparator<TensorSource> ORDER =
            Comparator.comparingInt((TensorSource s) -> -s.dtype().size()).thenComparing(TensorSource::name);

    public static void write(Path target, Map<String, String> metadata, List<TensorSource> sources) throws IOException {
        write(target, metadata, sources, true);
    }

    /**
     * With sort false the tensors keep the given order, so that a producer computing several tensors at once (the parts
     * of one quantized weight) can hand them out back to back and hold one group at a time.
     */
    public static void write(Path target, Map<String, String> metadata, List<TensorSource> sources, boolean sort) throws IOException {
        List<TensorSource> sorted = sort ? sorted(sources) : unique(sources);
        byte[] header = header(metadata, sorted);
        AtomicFiles.write(target, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            out.write(header);
            for (TensorSource s : sorted) {
                CountingOutputStream c = new CountingOutputStream(out);
                s.writeTo(c);
                if (c.count() != s.byteSize())
                    throw new IOException(target + ": tensor '" + s.name() + "' produced " + c.count() + " bytes, expected " + s.byteSize());
            }
        }, true);
    }

    /**
     * Writes model-0000i-of-0000N.safetensors shards of at most maxShardBytes of data each (a larger tensor gets a
     * shard of its own) plus model.safetensors.index.json. With one shard, writes model.safetensors alone.
     */
    public static List<Path> writeSharded(Path dir, Map<String, String> metadata, List<TensorSource> sources, long maxShardBytes) throws IOException {
        return writeSharded(dir, metadata, sources, maxShardBytes, true);
    }

    public static List<Path> writeSharded(Path dir, Map<String, String> metadata, List<TensorSource> sources, long maxShardBytes, boolean sort) throws IOException {
        List<List<TensorSource>> shards = new ArrayList<>();
        long size = 0;
        for (TensorSource s : sort ? sorted(sources) : unique(sources)) {
            if (shards.isEmpty() || (size + s.byteSize() > maxShardBytes && size > 0)) {
                shards.add(new ArrayList<>());
                size = 0;
            }
            shards.getLast().add(s);
            size += s.byteSize();
        }
        if (shards.size() <= 1) {
            Path p = dir.resolve("model.safetensors");
            write(p, metadata, sources, sort);
            return List.of(p);
        }
        List<Path> written = new ArrayList<>();
        ObjectNode index = JsonNodeFactory.instance.objectNode();
        ObjectNode map = JsonNodeFactory.instance.objectNode();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(dir.resolve(name), metadata, shards.get(i), sort);
            written.add(dir.resolve(name));
            for (TensorSource s : shards.get(i)) {
                map.put(s.name(), name);
                total += s.byteSize();
            }
        }
        index.putObject("metadata").put("total_size", total);
        ObjectNode sortedMap = index.putObject("weight_map");
        map.properties().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> sortedMap.set(e.getKey(), e.getValue()));
        Path idx = dir.resolve(Checkpoint.INDEX);
        AtomicFiles.write(idx, out -> JsonTree.write(out, index));
        written.add(idx);
        return written;
    }

    private static List<TensorSource> sorted(List<TensorSource> sources) {
        return unique(sources).stream().sorted(ORDER).toList();
    }

    private static List<TensorSource> unique(List<TensorSource> sources) {
        var seen = new HashSet<String>();
        for (TensorSource s : sources) {
            if (!seen.add(s.name())) throw new IllegalArgumentException("duplicate tensor name '" + s.name() + "'");
        }
        return sources;
    }

    static byte[] header(Map<String, String> metadata, List<TensorSource> sorted) {
        ObjectNode h = JsonNodeFactory.instance.objectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = h.putObject("__metadata__");
            new LinkedHashMap<>(metadata).forEach(m::put);
        }
        long off = 0;
        for (TensorSource s : sorted) {
            ObjectNode e = h.putObject(s.name());
            e.put("dtype", s.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : s.shape()) shape.add(d);
            e.putArray("data_offsets").add(off).add(off + s.byteSize());
            off += s.byteSize();
        }
        byte[] json = JsonTree.compact(h).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }
}
