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

    @ParameterizedTest
    @MethodSource("models")
    void openingCostsOnlyTheHeader(String name) {
        try (Checkpoint ck = Checkpoint.open(modelDir(name))) {
            for (Tensor t : ck.tensors()) assertEquals(t.numel() * t.dtype().size(), t.byteSize());
        }
    }
}
