package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Json's trees and bytes are Jackson ObjectMapper's, on every JSON file and safetensors header of the samples. */
class JsonTreeTest {
    static final ObjectMapper PLAIN = new ObjectMapper();

    static Stream<Path> files() throws IOException {
        List<Path> dirs = new ArrayList<>(List.of(Samples.tinyLlama()));
        Samples.shared().ifPresentOrElse(dirs::add, () -> System.err.println("JsonTreeTest: " + Samples.SHARED_MISSING + " (embedded sample only)"));
        List<Path> files = new ArrayList<>();
        for (Path d : dirs) {
            try (Stream<Path> s = Files.walk(d)) {
                s.filter(f -> f.toString().endsWith(".json") || f.toString().endsWith(".safetensors")).sorted().forEach(files::add);
            }
        }
        return files.stream();
    }

    /** The JSON text of a file: a safetensors file's header, any other file whole. */
    static String text(Path f) throws IOException {
        if (!f.toString().endsWith(".safetensors")) return Files.readString(f);
        try (var ch = Files.newByteChannel(f)) {
            ByteBuffer n = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(n);
            ByteBuffer h = ByteBuffer.allocate((int) n.getLong(0));
            while (h.hasRemaining() && ch.read(h) > 0) {}
            return new String(h.array(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void samplesReadAndWriteAsObjectMapper(Path f) throws IOException {
        String json = text(f);
        JsonNode expected = PLAIN.readTree(json), strict = FuzzSeeds.JSON.readTree(json);
        assertEquals(expected, JsonTree.read(json), f.toString());
        assertEquals(expected, JsonTree.read(f.toString().endsWith(".safetensors") ? writeTemp(json) : f), f.toString());
        assertEquals(strict, JsonTree.readStrict(json), f.toString());
        assertEquals(strict, JsonTree.readStrict(json.getBytes(StandardCharsets.UTF_8)), f.toString());
        assertSame(expected, JsonTree.read(json));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonTree.write(out, expected);
        assertArrayEquals(PLAIN.writerWithDefaultPrettyPrinter().writeValueAsBytes(expected), out.toByteArray(), f.toString());
        assertEquals(expected.toString(), JsonTree.compact(expected), f.toString());
        assertTrue(expected.size() > 0, f + " has content");
    }

    static Path writeTemp(String json) throws IOException {
        Path t = Files.createTempFile("lowbit-json", ".json");
        t.toFile().deleteOnExit();
        return Files.writeString(t, json);
    }

    /** Same node classes (IntNode, LongNode, BigIntegerNode, DoubleNode...), not only equal values. */
    static void assertSame(JsonNode a, JsonNode b) {
        assertEquals(a.getClass(), b.getClass());
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size() && a.isArray(); i++) assertSame(a.get(i), b.get(i));
        for (var it = a.fieldNames(); a.isObject() && it.hasNext(); ) {
            String k = it.next();
            assertSame(a.get(k), b.get(k));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "null", "7", "\"x\"", "{\"a\":1,\"a\":2,\"b\":3}",
            "[1, 2147483648, 12345678901, 123456789012345678901234567890, 1.5, -0.0, 1e400, 1e-400, true, false, null, \"x\\u00e9\\n\"]",
            "{\"a\":{\"b\":[[],{}],\"c\":\"\"}}", "{\"a\":1} trailing", "[1,]", "{\"a\":}", "{\"n\": NaN}", "[1, 2", "{\"a\": [1, {\"b\": 2}", "{\"a\"", "[[[]], {}, [{\"x\": [null]}]]"})
    void edgesAsObjectMapper(String json) throws IOException {
        JsonNode expected;
        try {
            expected = PLAIN.readTree(json);
        } catch (JsonProcessingException e) {
            var mine = assertThrows(JsonProcessingException.class, () -> JsonTree.read(json));
            assertEquals(e.getOriginalMessage(), mine.getOriginalMessage());
            return;
        }
        JsonNode mine = JsonTree.read(json);
        assertEquals(expected, mine);
        assertSame(expected, mine);
        if (!expected.isMissingNode()) assertEquals(expected.toString(), JsonTree.compact(mine));
    }

    @Test
    void strictRefusesRepeatedKeysAndReadsNaN() throws IOException {
        String dup = "{\"a\":1,\"b\":2,\"a\":3}";
        var e = assertThrows(JsonProcessingException.class, () -> FuzzSeeds.JSON.readTree(dup));
        var mine = assertThrows(JsonProcessingException.class, () -> JsonTree.readStrict(dup));
        assertEquals(e.getOriginalMessage(), mine.getOriginalMessage());
        assertEquals("{\"a\":3,\"b\":2}", JsonTree.read(dup).toString()); // plain: the first place, the last value
        String nan = "{\"n\":NaN,\"i\":-Infinity}";
        assertEquals(FuzzSeeds.JSON.readTree(nan), JsonTree.readStrict(nan));
        assertTrue(JsonTree.readStrict(nan).get("n").isDouble());
    }
}
