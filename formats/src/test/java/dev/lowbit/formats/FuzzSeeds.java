package dev.lowbit.formats;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;

/**
 * Seeds for the fuzz tests, made from the real sample files: the embedded tiny-llama (always there) and, when
 * present, ../shared/samples. Weight files are shrunk (every dimension capped at 2, data zeroed) so that the fuzzer
 * mutates headers rather than megabytes of weights.
 */
final class FuzzSeeds {
    /** The JSON reading of SafetensorsFile (duplicate keys refused, NaN read), with Jackson's ObjectMapper. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private FuzzSeeds() {}

    private static Path scratch;

    /** A temporary folder for the fuzz targets that read paths, deleted when the JVM exits. */
    static synchronized Path scratch() {
        if (scratch != null) return scratch;
        try {
            Path d = Files.createTempDirectory("lowbit-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (Stream<Path> s = Files.walk(d)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
            }));
            return scratch = d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Model folders to take seeds from: the embedded sample first, then the shared ones. */
    static List<Path> modelDirs() {
        List<Path> dirs = new ArrayList<>(List.of(Samples.tinyLlama()));
        Samples.shared().ifPresentOrElse(shared -> {
            try (Stream<Path> s = Files.list(shared)) {
                s.filter(Files::isDirectory).sorted().forEach(dirs::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, () -> System.err.println("fuzz seeds: " + Samples.SHARED_MISSING + " (seeding from samples/tiny-llama only)"));
        return dirs;
    }

    static Named<byte[]> named(Path file, byte[] bytes) {
        Path root = Samples.root();
        String name = file.startsWith(root) ? root.relativize(file).toString() : file.getParent().getFileName() + "/" + file.getFileName();
        return Named.of(name, bytes);
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Files called `name` in the seed model folders. */
    static Stream<Path> files(String name) {
        return modelDirs().stream().map(d -> d.resolve(name)).filter(Files::isRegularFile);
    }

    /** Every .safetensors file in the seed folders, shrunk. */
    static Stream<Named<byte[]>> safetensors() {
        return modelDirs().stream().flatMap(d -> {
            try (Stream<Path> s = Files.list(d)) {
                return s.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList().stream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).map(f -> named(f, shrink(read(f))));
    }

    /** A valid safetensors file with the same names, dtypes, ranks and metadata, each dimension capped at 2. */
    static byte[] shrink(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        try {
            ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, n, StandardCharsets.UTF_8));
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) entries.add(it.next());
            entries.sort((x, y) -> Long.compare(x.getValue().path("data_offsets").path(0).asLong(), y.getValue().path("data_offsets").path(0).asLong()));
            long pos = 0;
            for (Map.Entry<String, JsonNode> e : entries) {
                if (e.getKey().equals("__metadata__")) continue;
                ObjectNode t = (ObjectNode) e.getValue();
                ArrayNode shape = (ArrayNode) t.get("shape");
                long numel = 1;
                for (int i = 0; i < shape.size(); i++) {
                    long d = Math.min(2, shape.get(i).asLong());
                    shape.set(i, d);
                    numel *= d;
                }
                long bytes = numel * DType.valueOf(t.get("dtype").asText()).size();
                t.putArray("data_offsets").add(pos).add(pos + bytes);
                pos += bytes;
            }
            byte[] h = JSON.writeValueAsBytes(header);
            return ByteBuffer.allocate(8 + h.length + (int) pos).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
