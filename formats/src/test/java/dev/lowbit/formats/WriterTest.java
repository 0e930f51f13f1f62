package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriterTest {
    @TempDir
    Path tmp;

    @Test
    void rewritingTheSampleGivesTheBytesTransformersWrote() throws IOException {
        Path original = Samples.tinyLlama().resolve("model.safetensors");
        try (Checkpoint ck = Checkpoint.open(original)) {
            List<TensorSource> src = ck.tensors().stream().map(TensorSource::of).toList();
            SafetensorsWriter.write(tmp.resolve("a.safetensors"), ck.metadata(), src);
            SafetensorsWriter.write(tmp.resolve("b.safetensors"), ck.metadata(), src.reversed());
        }
        assertEquals(-1, Files.mismatch(original, tmp.resolve("a.safetensors")), "byte-identical to the HF file");
        assertEquals(-1, Files.mismatch(tmp.resolve("a.safetensors"), tmp.resolve("b.safetensors")), "deterministic");
        try (Checkpoint a = Checkpoint.open(tmp.resolve("a.safetensors")); Checkpoint o = Checkpoint.open(original)) {
            for (Tensor t : o.tensors()) assertEquals(t, a.tensor(t.name()));
        }
    }

    @Test
    void shardsWithAnIndexReadBackIdentical() throws IOException {
        try (Checkpoint ck = Checkpoint.open(Samples.tinyLlama())) {
            List<Path> files = SafetensorsWriter.writeSharded(tmp, ck.metadata(),
                    ck.tensors().stream().map(TensorSource::of).toList(), 3_000_000);
            assertTrue(files.size() > 3, files.toString());
            assertTrue(Files.isRegularFile(tmp.resolve(Checkpoint.INDEX)));
            try (Checkpoint back = Checkpoint.open(tmp)) {
                assertEquals(ck.tensors().size(), back.tensors().size());
                for (Tensor t : ck.tensors()) assertEquals(t, back.tensor(t.name()));
            }
            // The files as transformers reads them, parsed here rather than by the reader: the index's weight_map names
            // the shard that holds each tensor, metadata.total_size is the sum of the tensors' bytes, and every shard's
            // header (u64 little-endian N, N bytes of JSON, data_offsets after it) views the original bytes.
            ObjectMapper json = new ObjectMapper();
            JsonNode index = json.readTree(tmp.resolve(Checkpoint.INDEX).toFile());
            Map<String, String> weightMap = new TreeMap<>(), found = new TreeMap<>();
            index.get("weight_map").properties().forEach(e -> weightMap.put(e.getKey(), e.getValue().asText()));
            long total = 0;
            for (Tensor t : ck.tensors()) total += t.byteSize();
            assertEquals(total, index.get("metadata").get("total_size").asLong(), "total_size");
            for (Path f : files) {
                if (!f.getFileName().toString().endsWith(".safetensors")) continue; // the index itself
                byte[] bytes = Files.readAllBytes(f);
                long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                JsonNode header = json.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
                for (var e : header.properties()) {
                    if (e.getKey().equals("__metadata__")) continue;
                    found.put(e.getKey(), f.getFileName().toString());
                    int begin = (int) (8 + n + e.getValue().get("data_offsets").get(0).asLong());
                    int end = (int) (8 + n + e.getValue().get("data_offsets").get(1).asLong());
                    byte[] want = ck.tensor(e.getKey()).data().toArray(ValueLayout.JAVA_BYTE);
                    assertArrayEquals(want, Arrays.copyOfRange(bytes, begin, end), e.getKey() + " in " + f.getFileName());
                }
            }
            assertEquals(ck.tensors().size(), found.size(), "every tensor in exactly one shard");
            assertEquals(found, weightMap, "weight_map names the shard holding each tensor");
        }
    }

    @Test
    void aFailingSourceLeavesNoFile() {
        TensorSource bad = new TensorSource() {
            public String name() { return "x"; }
            public DType dtype() { return DType.F32; }
            public long[] shape() { return new long[] {4}; }
            public void writeTo(OutputStream out) throws IOException { out.write(new byte[3]); }
        };
        Path target = tmp.resolve("bad.safetensors");
        assertThrows(IOException.class, () -> SafetensorsWriter.write(target, null, List.of(bad)));
        assertArrayEquals(new String[0], tmp.toFile().list());
    }
}
