package dev.lowbit.validate.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.quantizers.gguf.GgufExport;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.samples.Samples;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FloatEdgesTest {
    @TempDir
    Path tmp;

    /** llama.cpp's Q4_0 file of tiny-llama: its quantized weights, and the judged copy with float32 edges. */
    @Test
    void referenceQ4_0() throws Exception {
        Path model = Samples.requireShared("tiny-llama");
        Path q40 = model.resolve("reference/gguf/tiny-llama-Q4_0.gguf");
        // 4 layers of q, o [256 × 256], k, v [64 × 256], gate, up [704 × 256], down [256 × 704] (config.json), all Q4_0: 18 bytes per 32
        long params = 4L * (2 * 256 * 256 + 2 * 64 * 256 + 3 * 704 * 256);
        FloatEdges.Quantized q = FloatEdges.quantized(q40);
        assertEquals(params, q.params());
        assertEquals(params / 32 * 18, q.bytes());
        assertEquals(4.5, q.bitsPerWeight(), 1e-12);

        Path base = tmp.resolve("base.gguf"), judged = tmp.resolve("judged.gguf");
        GgufExport.run(model, base, GgufFileType.F32, false, null);
        FloatEdges.write(q40, base, judged);
        try (Arena a = Arena.ofConfined()) {
            GgufFile c = GgufFile.open(q40, a), b = GgufFile.open(base, a), j = GgufFile.open(judged, a);
            assertEquals(c.tensors().size(), j.tensors().size());
            int edges = 0;
            for (GgufTensor t : j.tensors()) {
                GgufTensor from = FloatEdges.EDGES.contains(t.name()) ? b.tensor(t.name()) : c.tensor(t.name());
                if (FloatEdges.EDGES.contains(t.name())) {
                    edges++;
                    assertEquals(0, t.type(), t.name()); // F32
                    assertTrue(c.tensor(t.name()).type() != 0, t.name() + " is quantized in llama.cpp's file");
                }
                assertEquals(from.type(), t.type(), t.name());
                assertEquals(-1, from.data().mismatch(t.data()), t.name());
            }
            assertEquals(2, edges); // token_embd and output: tiny-llama has an untied lm_head
            assertEquals(c.metadata().keySet(), j.metadata().keySet());
        }
        assertTrue(Files.size(judged) > Files.size(q40));
    }
}
