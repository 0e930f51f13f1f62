package dev.lowbit.validate.sweep;

import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.formats.gguf.GgufWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The judge keeps embeddings and lm_head in float for every candidate (lowbit's recipes keep them; llama.cpp's recipes
 * quantize them): a GGUF candidate is judged through a copy whose token_embd / position_embd / output tensors are the
 * original model's float32 ones (taken from a float32 GGUF of the original, so names and layouts are llama.cpp's),
 * every other tensor byte for byte. The same names are left out of "bits per quantized weight".
 */
final class FloatEdges {
    private FloatEdges() {}

    static final Set<String> EDGES = Set.of("token_embd.weight", "position_embd.weight", "output.weight");

    /** Bytes and elements of the 2-D tensors other than the edges: what the GGUF quantized. */
    record Quantized(long bytes, long params) {
        double bitsPerWeight() {
            return params == 0 ? 0 : 8.0 * bytes / params;
        }
    }

    static Quantized quantized(Path gguf) {
        try (Arena a = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(gguf, a);
            long bytes = 0, params = 0;
            for (GgufTensor t : f.tensors()) {
                if (t.dims().length < 2 || EDGES.contains(t.name())) continue;
                bytes += t.data().byteSize();
                params += t.numel();
            }
            return new Quantized(bytes, params);
        }
    }

    /** Writes the candidate with its edge tensors replaced by floatBase's (an F32 GGUF of the original) to out. */
    static void write(Path candidate, Path floatBase, Path out) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            GgufFile c = GgufFile.open(candidate, a), b = GgufFile.open(floatBase, a);
            List<GgufWriter.TensorSpec> specs = new ArrayList<>();
            for (GgufTensor t : c.tensors()) {
                GgufTensor src = t;
                if (EDGES.contains(t.name())) {
                    src = b.tensor(t.name());
                    if (src == null) src = t.name().equals("output.weight") ? b.tensor("token_embd.weight") : null;
                    if (src == null || src.numel() != t.numel())
                        throw new IllegalArgumentException(candidate + ": tensor " + t.name() + " does not match the original model's");
                }
                MemorySegment data = src.data();
                specs.add(new GgufWriter.TensorSpec(t.name(), src.type(), t.dims(), data.byteSize(), o -> {
                    byte[] buf = new byte[1 << 16];
                    for (long at = 0; at < data.byteSize(); at += buf.length) {
                        int n = (int) Math.min(buf.length, data.byteSize() - at);
                        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, buf, 0, n);
                        o.write(buf, 0, n);
                    }
                }));
            }
            GgufWriter.write(out, c.metadata(), specs, null);
        }
    }
}
