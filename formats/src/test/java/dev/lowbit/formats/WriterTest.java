package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
