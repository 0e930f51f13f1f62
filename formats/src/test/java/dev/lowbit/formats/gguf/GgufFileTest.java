package dev.lowbit.formats.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every reference GGUF file made by llama.cpp opens; names and types match gguf_refs.json; the data tiles. */
class GgufFileTest {
    static final List<String> MODELS = List.of("tiny-llama", "tiny-gpt2", "tiny-bloom");

    /** (model, file type, path, refs entry) for every file in every gguf_refs.json. */
    static Stream<Arguments> files() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (String m : MODELS) {
            Path g = Samples.requireShared(m + "/reference/gguf");
            JsonNode refs = new ObjectMapper().readTree(g.resolve("gguf_refs.json").toFile()).get("files");
            for (Iterator<Map.Entry<String, JsonNode>> it = refs.properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                out.add(Arguments.of(m + " " + e.getKey(), g.resolve(e.getValue().get("file").asText()), e.getValue()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void opensAndMatchesRefs(String name, Path file, JsonNode ref) {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(file, arena);
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(0, f.dataOffset() % 32);
            JsonNode types = ref.get("tensor_types");
            assertEquals(types.size(), f.tensors().size(), "tensor count");
            List<String> names = new ArrayList<>();
            types.fieldNames().forEachRemaining(names::add);
            assertEquals(names, f.tensors().stream().map(GgufTensor::name).toList(), "names in file order");
            for (GgufTensor t : f.tensors()) {
                assertEquals(types.get(t.name()).asText(), t.typeName(), t.name());
                assertEquals(t, f.tensor(t.name()));
                assertEquals(t.dims()[0], t.shape()[t.shape().length - 1]);
            }
            // the byte sizes tile the data region: each tensor starts at the previous end rounded up to the alignment
            List<GgufTensor> sorted = new ArrayList<>(f.tensors());
            sorted.sort(Comparator.comparingLong(GgufTensor::offset));
            long pos = 0;
            for (GgufTensor t : sorted) {
                assertEquals((pos + 31) / 32 * 32, t.offset(), t.name());
                pos = t.offset() + t.byteSize();
            }
            assertEquals(ref.get("bytes").asLong(), f.dataOffset() + pos, "file size");
            assertNotNull(f.string("general.architecture"));
            assertEquals(f.string("general.architecture"), name.startsWith("tiny-llama") ? "llama" : name.startsWith("tiny-gpt2") ? "gpt2" : "bloom");
            List<?> tokens = f.array("tokenizer.ggml.tokens", GgufValueType.STRING);
            assertEquals(4096, tokens.size());
        }
    }

    @Test
    void metadataValuesAndOrder() {
        Path dir = Samples.requireShared("tiny-llama");
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(dir.resolve("reference/gguf/tiny-llama-F16.gguf"), arena);
            var keys = new ArrayList<>(f.metadata().keySet());
            assertEquals("general.architecture", keys.get(0));
            assertEquals("tokenizer.ggml.add_sep_token", keys.get(keys.size() - 1));
            assertEquals(28, keys.size());
            assertEquals(4L, f.integer("llama.block_count"));
            assertEquals(GgufValueType.UINT32, f.value("llama.block_count").type());
            assertEquals(1e-5, f.number("llama.attention.layer_norm_rms_epsilon"), 1e-12);
            assertEquals(1e-5f, (float) (double) f.number("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000.0, f.number("llama.rope.freq_base"));
            assertEquals(Boolean.TRUE, f.bool("tokenizer.ggml.add_bos_token"));
            assertEquals("Tiny Llama", f.string("general.name"));
            List<?> types = f.array("tokenizer.ggml.token_type", GgufValueType.INT32);
            assertEquals(4096, types.size());
            assertTrue(types.get(0) instanceof Long);
            List<?> scores = f.array("tokenizer.ggml.scores", GgufValueType.FLOAT32);
            assertTrue(scores.get(5) instanceof Double);
            GgufTensor q = f.tensor("blk.0.attn_k.weight");
            assertEquals(List.of(256L, 64L), java.util.Arrays.stream(q.dims()).boxed().toList());
            assertEquals(List.of(64L, 256L), java.util.Arrays.stream(q.shape()).boxed().toList());
            assertEquals(64 * 256 * 2, q.byteSize());
            assertEquals(64, q.rows());
            assertEquals(256, q.cols());
        }
    }

    @Test
    void typeTable() {
        assertEquals(34, GgmlType.named("Q8_0").blockBytes());
        assertEquals(256, GgmlType.of(12).blockSize());
        assertEquals("IQ4_XS", GgmlType.nameOf(23));
        assertEquals("type 99", GgmlType.nameOf(99));
        assertTrue(GgmlType.of(31).removed());
        assertEquals(210L * 2, GgmlType.named("Q6_K").rowBytes(512));
    }
}
