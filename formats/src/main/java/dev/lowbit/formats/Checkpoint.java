package dev.lowbit.formats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The weights of one model: a single safetensors file, a folder of them, or a sharded folder with
 * model.safetensors.index.json. All files are mapped in one arena, released by close().
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Arena arena;
    private final List<SafetensorsFile> files;
    private final Map<String, Tensor> tensors;

    private Checkpoint(Path dir, Arena arena, List<SafetensorsFile> files, Map<String, Tensor> tensors) {
        this.dir = dir;
        this.arena = arena;
        this.files = files;
        this.tensors = tensors;
    }

    /** Opens a model folder or a single .safetensors / index file. Costs O(headers), not O(file size). */
    public static Checkpoint open(Path input) {
        Path p = input.toAbsolutePath().normalize();
        if (!Files.exists(p)) throw new FormatException(input, "no such file or folder");
        Arena arena = Arena.ofShared();
        try {
            return open(p, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Checkpoint open(Path p, Arena arena) {
        if (Files.isDirectory(p)) {
            Path index = p.resolve(INDEX);
            if (Files.isRegularFile(index)) return sharded(p, index, arena);
            List<Path> shards = safetensorsIn(p);
            if (shards.isEmpty()) throw new FormatException(p, "no .safetensors files in this folder");
            List<SafetensorsFile> files = new ArrayList<>();
            for (Path s : shards) files.add(openFile(s, arena));
            return new Checkpoint(p, arena, files, merge(files));
        }
        if (p.getFileName().toString().endsWith(".index.json")) return sharded(p.getParent(), p, arena);
        if (GgufFile.isGguf(p))
            throw new FormatException(p, "a GGUF file, not safetensors: lowbit reads GGUF models in inspect, perplexity and validate, and quantizes safetensors models");
        SafetensorsFile f = openFile(p, arena);
        return new Checkpoint(p.getParent(), arena, List.of(f), merge(List.of(f)));
    }

    private static List<Path> safetensorsIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".safetensors") || f.getFileName().toString().endsWith(".safetensors.zst"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new FormatException(dir, "cannot list: " + e.getMessage());
        }
    }

    private static Map<String, Tensor> merge(List<SafetensorsFile> files) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (SafetensorsFile f : files) {
            for (Tensor t : f.tensors().values()) {
                if (all.putIfAbsent(t.name(), t) != null) throw new FormatException(f.path(), t.name(), "also stored in another file of this model");
            }
        }
        return all;
    }

    private static Checkpoint sharded(Path dir, Path index, Arena arena) {
        JsonNode root;
        try {
            root = JsonTree.readStrict(index);
        } catch (IOException e) {
            throw new FormatException(index, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(index, "missing weight_map object");
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var it = map.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String tensor = e.getKey();
            if (!e.getValue().isTextual()) throw new FormatException(index, tensor, "weight_map value is not a file name");
            String rel = e.getValue().textValue();
            Path shard;
            try {
                shard = dir.resolve(rel).normalize();
            } catch (InvalidPathException ex) { // e.g. a NUL character
                throw new FormatException(index, tensor, "shard path '" + rel + "' is not a valid file name");
            }
            if (Path.of(rel).isAbsolute() || !shard.startsWith(dir) || shard.getParent() == null || !shard.getParent().equals(dir))
                throw new FormatException(index, tensor, "shard path '" + rel + "' is outside the model folder");
            Path zst = shard.resolveSibling(shard.getFileName() + ".zst");
            if (!Files.isRegularFile(shard) && !Files.isRegularFile(zst)) throw new FormatException(index, tensor, "shard '" + rel + "' does not exist");
            SafetensorsFile f = byName.computeIfAbsent(rel, r -> openFile(Files.isRegularFile(shard) ? shard : zst, arena));
            Tensor t = f.tensors().get(tensor);
            if (t == null) throw new FormatException(index, tensor, "not found in shard '" + rel + "'");
            tensors.put(tensor, t);
        }
        return new Checkpoint(dir, arena, List.copyOf(byName.values()), Collections.unmodifiableMap(tensors));
    }

    /** Maps a file; a .zst one is first decompressed to a temp file, deleted once mapped (the mapping keeps it alive). */
    private static SafetensorsFile openFile(Path p, Arena arena) {
        if (!p.getFileName().toString().endsWith(".zst")) return SafetensorsFile.open(p, arena);
        Path tmp = Manifest.decompressToTemp(p);
        try {
            return SafetensorsFile.open(tmp, arena);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // deleteOnExit remains registered
            }
        }
    }

    public Path dir() {
        return dir;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    public Collection<Tensor> tensors() {
        return tensors.values();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The named tensor; a missing one is a FormatException naming the model folder. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FormatException(dir, name, "missing from the checkpoint");
        return t;
    }

    /** __metadata__ of all files, merged in file order. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        files.forEach(f -> m.putAll(f.metadata()));
        return m;
    }

    @Override
    public void close() {
        arena.close();
    }
}
