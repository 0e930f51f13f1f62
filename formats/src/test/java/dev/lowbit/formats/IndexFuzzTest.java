package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of model.safetensors.index.json: Checkpoint.open on a folder of (shrunk, valid)
 * shards with a fuzzed index gives the tensors the index names, or a FormatException. Regression inputs:
 * src/test/resources/dev/lowbit/formats/IndexFuzzTestInputs/index.
 */
class IndexFuzzTest {
    private static Path dir;

    /** A folder holding shrunk copies of every seed folder's shards under their own names (model.safetensors first). */
    static synchronized Path model() {
        if (dir != null) return dir;
        try {
            Path d = Files.createDirectories(FuzzSeeds.scratch().resolve("model"));
            for (Path m : FuzzSeeds.modelDirs()) {
                try (Stream<Path> s = Files.list(m)) {
                    for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) {
                        Path to = d.resolve(f.getFileName());
                        if (!Files.exists(to)) Files.write(to, FuzzSeeds.shrink(FuzzSeeds.read(f)));
                    }
                }
            }
            return dir = d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Named<byte[]>> seeds() {
        List<Named<byte[]>> seeds = new ArrayList<>();
        // The embedded sample has one file: its index is the one transformers would write for it.
        ObjectNode index = FuzzSeeds.JSON.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        try (Arena arena = Arena.ofConfined()) {
            for (String name : SafetensorsFile.open(model().resolve("model.safetensors"), arena).tensors().keySet()) map.put(name, "model.safetensors");
        }
        try {
            seeds.add(Named.of("samples/tiny-llama (as one shard)", FuzzSeeds.JSON.writeValueAsBytes(index)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        FuzzSeeds.files(Checkpoint.INDEX).forEach(f -> seeds.add(FuzzSeeds.named(f, FuzzSeeds.read(f))));
        return seeds.stream();
    }

    @MethodSource("seeds")
    @DictionaryEntries({"\"weight_map\"", "\"metadata\"", "\"model.safetensors\"", "\"model-00001-of-00004.safetensors\"",
            "\"../\"", "\"/\"", "\\u0000", "\"\"", ".zst", "null", "[]", "{}"})
    @FuzzTest(maxDuration = "15s")
    void index(byte[] input) throws IOException {
        Path d = model(), file = d.resolve(Checkpoint.INDEX);
        Files.write(file, input);
        try (Checkpoint ck = Checkpoint.open(d)) {
            var map = FuzzSeeds.JSON.readTree(input).get("weight_map");
            assertEquals(map.size(), ck.tensors().size());
            map.fieldNames().forEachRemaining(n -> assertEquals(n, ck.tensor(n).name()));
        } catch (FormatException e) {
            Fuzz.checkMessage(e, d); // names the index or one of its shards
        }
    }
}
