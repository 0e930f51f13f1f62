package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowbit.formats.gguf.GgmlType;
import dev.lowbit.formats.gguf.GgufConfig;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufValueType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of the GGUF reader and the config synthesized from GGUF metadata: GgufFile.open
 * then GgufConfig.parse give a file and config, or a FormatException. Seeds are the reference GGUFs in
 * ../shared/samples/{@literal *}/reference/gguf, shrunk (arrays cut to 64 entries, tensors to one block row); without
 * them, a GGUF made here from the embedded sample's config. Regression inputs:
 * src/test/resources/dev/lowbit/formats/GgufFuzzTestInputs/gguf.
 */
class GgufFuzzTest {
    static Stream<Named<byte[]>> seeds() {
        List<Named<byte[]>> seeds = new ArrayList<>();
        for (Path d : FuzzSeeds.modelDirs()) {
            Path dir = d.resolve("reference/gguf");
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.filter(GgufFile::isGguf).sorted().toList()) seeds.add(FuzzSeeds.named(f, shrink(f)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (seeds.isEmpty()) seeds.add(Named.of("made from samples/tiny-llama/config.json", embedded()));
        return seeds.stream();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "15s")
    void gguf(byte[] input) throws IOException {
        Path file = FuzzSeeds.scratch().resolve("fuzz.gguf");
        Files.write(file, input);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(file, arena);
            // a file without tensors may end before its aligned data offset (llama.cpp reads it too)
            long end = g.tensors().isEmpty() ? input.length : g.dataOffset();
            for (GgufTensor t : g.tensors()) {
                assertTrue(t.offset() % g.alignment() == 0, t.name());
                assertEquals(t.numel() / t.ggmlType().blockSize() * t.ggmlType().blockBytes(), t.byteSize(), t.name());
                end = Math.max(end, g.dataOffset() + t.offset() + t.byteSize());
            }
            assertTrue(end <= input.length);
            for (var e : g.metadata().entrySet()) e.getValue().value().toString();
            ModelConfig c = GgufConfig.parse(g);
            for (int v : new int[] {c.hidden(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(), c.vocab()})
                assertTrue(v > 0, "sizes must be positive: " + c);
        } catch (FormatException e) {
            Fuzz.checkMessage(e, file);
        }
    }

    // ---- a small GGUF writer for the seeds ----

    /** The GGUF with every array cut to 64 elements and every tensor to one row of one block (data zeroed). */
    static byte[] shrink(Path f) {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(f, arena);
            Map<String, GgufValue> meta = g.metadata();
            meta.replaceAll((k, v) -> v.type() == GgufValueType.ARRAY && v.asList().size() > 64
                    ? GgufValue.array(v.elementType(), v.asList().subList(0, 64)) : v);
            List<long[]> dims = new ArrayList<>();
            List<Integer> types = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (GgufTensor t : g.tensors()) {
                long[] d = t.dims().clone();
                d[0] = t.ggmlType().blockSize();
                for (int i = 1; i < d.length; i++) d[i] = Math.min(d[i], 2);
                names.add(t.name());
                dims.add(d);
                types.add(t.type());
            }
            return write(g.version(), meta, names, dims, types, g.alignment());
        }
    }

    /** A llama GGUF with the embedded sample's hyper-parameters, a few tokens and no tensors. */
    static byte[] embedded() {
        ModelConfig c = ModelConfig.read(dev.lowbit.samples.Samples.tinyLlama());
        Map<String, GgufValue> m = new java.util.LinkedHashMap<>();
        m.put("general.architecture", GgufValue.str("llama"));
        m.put("llama.embedding_length", GgufValue.u32(c.hidden()));
        m.put("llama.block_count", GgufValue.u32(c.layers()));
        m.put("llama.attention.head_count", GgufValue.u32(c.heads()));
        m.put("llama.attention.head_count_kv", GgufValue.u32(c.kvHeads()));
        m.put("llama.feed_forward_length", GgufValue.u32(c.ffn()));
        m.put("llama.context_length", GgufValue.u32(c.maxPositions()));
        m.put("llama.rope.freq_base", GgufValue.f32((float) c.rope().theta()));
        m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32((float) c.eps()));
        m.put("tokenizer.ggml.model", GgufValue.str("llama"));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("<unk>", "<s>", "</s>", "\u2581a", "b")));
        m.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, List.of(0.0, 0.0, 0.0, -1.0, -2.0)));
        return write(3, m, List.of("token_embd.weight"), List.of(new long[] {32, 5}), List.of(GgmlType.named("F32").id()), 32);
    }

    static byte[] write(int version, Map<String, GgufValue> meta, List<String> names, List<long[]> dims, List<Integer> types, int alignment) {
        Out o = new Out();
        o.u32(GgufFile.MAGIC).u32(version).u64(names.size()).u64(meta.size());
        meta.forEach((k, v) -> {
            o.str(k).u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) {
                o.u32(v.elementType().id()).u64(v.asList().size());
                for (Object e : v.asList()) o.scalar(v.elementType(), e);
            } else o.scalar(v.type(), v.value());
        });
        long offset = 0;
        List<Long> bytes = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            long[] d = dims.get(i);
            GgmlType t = GgmlType.of(types.get(i));
            long numel = 1;
            for (long x : d) numel *= x;
            long b = numel / t.blockSize() * t.blockBytes();
            o.str(names.get(i)).u32(d.length);
            for (long x : d) o.u64(x);
            o.u32(types.get(i)).u64(offset);
            bytes.add(b);
            offset += (b + alignment - 1) / alignment * alignment;
        }
        while (o.b.size() % alignment != 0) o.b.write(0);
        o.b.writeBytes(new byte[(int) offset]);
        return o.b.toByteArray();
    }

    static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Out u32(long v) {
            b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }

        Out u64(long v) {
            b.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Out str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            u64(u.length);
            b.writeBytes(u);
            return this;
        }

        void scalar(GgufValueType t, Object v) {
            ByteBuffer x = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            switch (t) {
                case STRING -> str((String) v);
                case BOOL -> b.write((Boolean) v ? 1 : 0);
                case FLOAT32 -> b.write(x.putFloat(((Double) v).floatValue()).array(), 0, 4);
                case FLOAT64 -> b.write(x.putDouble((Double) v).array(), 0, 8);
                default -> b.write(x.putLong((Long) v).array(), 0, t.size);
            }
        }
    }
}
