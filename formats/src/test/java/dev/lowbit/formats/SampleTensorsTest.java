package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every tensor of every sample matches transformers' count, dtype, shape, float64 sum and sum of squares. */
class SampleTensorsTest {
    static Stream<String> models() {
        return Stream.of("embedded:tiny-llama", "tiny-gpt2", "tiny-bloom", "tiny-llama", "tiny-llama-sharded");
    }

    static Path modelDir(String name) {
        if (name.startsWith("embedded:")) return Samples.tinyLlama();
        return Samples.requireShared(name);
    }

    @ParameterizedTest
    @MethodSource("models")
    void tensorsMatchReference(String name) throws Exception {
        Path dir = modelDir(name);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference/tensors.json").toFile()).get("tensors");
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(ref.size(), ck.tensors().size(), "tensor count");
            for (JsonNode r : ref) {
                Tensor t = ck.tensor(r.get("name").asText());
                assertEquals(r.get("dtype").asText(), t.dtype().torchName(), t.name());
                long[] shape = new ObjectMapper().convertValue(r.get("shape"), long[].class);
                assertArrayEquals(shape, t.shape(), t.name());
                double sum = 0, sumsq = 0;
                for (long i = 0, n = t.numel(); i < n; i++) {
                    double v = t.getDouble(i);
                    sum += v;
                    sumsq += v * v;
                }
                assertClose(r.get("sum").asDouble(), sum, sumsq, t.name() + " sum");
                assertClose(r.get("sumsq").asDouble(), sumsq, sumsq, t.name() + " sumsq");
            }
        }
    }

    /** Relative 1e-9, measured against the sum of squares so that sums near zero are judged fairly. */
    static void assertClose(double expected, double actual, double scale, String what) {
        assertEquals(expected, actual, 1e-9 * Math.max(Math.abs(expected), Math.max(scale, 1e-30)), what);
    }

    /**
     * Every tensor views exactly the bytes its file's header names: the header parsed here by the safetensors spec
     * (u64 little-endian N, N bytes of JSON, data_offsets relative to the buffer after it), the bytes compared one by one.
     */
    @ParameterizedTest
    @MethodSource("models")
    void tensorsViewTheBytesTheirHeaderNames(String name) throws Exception {
        Path dir = modelDir(name);
        int seen = 0;
        try (Checkpoint ck = Checkpoint.open(dir); var files = java.nio.file.Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                byte[] bytes = java.nio.file.Files.readAllBytes(f);
                long n = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
                for (var e : header.properties()) {
                    if (e.getKey().equals("__metadata__")) continue;
                    Tensor t = ck.tensor(e.getKey());
                    long begin = 8 + n + e.getValue().get("data_offsets").get(0).asLong(), end = 8 + n + e.getValue().get("data_offsets").get(1).asLong();
                    assertEquals(end - begin, t.byteSize(), t.name());
                    byte[] got = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    assertEquals(-1, java.util.Arrays.mismatch(java.util.Arrays.copyOfRange(bytes, (int) begin, (int) end), got), t.name() + " bytes");
                    seen++;
                }
            }
            assertEquals(ck.tensors().size(), seen, "every tensor is in exactly one file's header");
        }
    }
}
