package dev.lowbit.formats.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
    @TempDir
    Path tmp;

    static LinkedHashMap<String, GgufValue> kv() {
        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("general.architecture", GgufValue.str("llama"));
        kv.put("x.u32", GgufValue.u32(0xfffffffeL));
        kv.put("x.f32", GgufValue.f32(1e-5f));
        kv.put("x.bool", GgufValue.bool(true));
        kv.put("x.tokens", GgufValue.array(GgufValueType.STRING, List.of("a", "▁b")));
        kv.put("x.types", GgufValue.array(GgufValueType.INT32, List.of(1L, -3L)));
        return kv;
    }

    static String str(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    @Test
    void layoutIsGgufV3() throws IOException {
        var kv = kv();
        var t = List.of(new GgufWriter.TensorSpec("a", 0, new long[] {3}, 12, o -> o.write(new byte[12])),
                new GgufWriter.TensorSpec("b", 1, new long[] {2, 5}, 20, o -> { for (int i = 0; i < 20; i++) o.write(i + 1); }));
        Path f = tmp.resolve("m.gguf");
        long[] progress = new long[1];
        GgufWriter.write(f, kv, t, d -> progress[0] = d);
        assertEquals(32, progress[0]);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(GgufWriter.fileSize(kv, t), b.capacity());
        assertEquals(0x46554747, b.getInt());
        assertEquals(3, b.getInt());
        assertEquals(2, b.getLong());
        assertEquals(6, b.getLong());
        assertEquals("general.architecture", str(b));
        assertEquals(GgufValueType.STRING.id(), b.getInt());
        assertEquals("llama", str(b));
        assertEquals("x.u32", str(b));
        assertEquals(GgufValueType.UINT32.id(), b.getInt());
        assertEquals(0xfffffffe, b.getInt());
        assertEquals("x.f32", str(b));
        assertEquals(GgufValueType.FLOAT32.id(), b.getInt());
        assertEquals(1e-5f, b.getFloat());
        assertEquals("x.bool", str(b));
        assertEquals(GgufValueType.BOOL.id(), b.getInt());
        assertEquals(1, b.get());
        assertEquals("x.tokens", str(b));
        assertEquals(GgufValueType.ARRAY.id(), b.getInt());
        assertEquals(GgufValueType.STRING.id(), b.getInt());
        assertEquals(2, b.getLong());
        assertEquals("a", str(b));
        assertEquals("▁b", str(b));
        assertEquals("x.types", str(b));
        assertEquals(GgufValueType.ARRAY.id(), b.getInt());
        assertEquals(GgufValueType.INT32.id(), b.getInt());
        assertEquals(2, b.getLong());
        assertEquals(1, b.getInt());
        assertEquals(-3, b.getInt());
        assertEquals("a", str(b));
        assertEquals(1, b.getInt());
        assertEquals(3, b.getLong());
        assertEquals(0, b.getInt());
        assertEquals(0, b.getLong());
        assertEquals("b", str(b));
        assertEquals(2, b.getInt());
        assertEquals(2, b.getLong());
        assertEquals(5, b.getLong());
        assertEquals(1, b.getInt());
        assertEquals(32, b.getLong(), "each tensor's offset is aligned");
        int data = (int) GgufWriter.pad(b.position(), 32);
        for (int i = b.position(); i < data; i++) assertEquals(0, b.get(i));
        assertEquals(1, b.get(data + 32));
        assertEquals(20, b.get(data + 32 + 19));
        assertEquals(data + 64, b.capacity(), "the last tensor is padded too");
    }

    @Test
    void customAlignment() throws IOException {
        var kv = kv();
        kv.put(GgufWriter.ALIGNMENT_KEY, GgufValue.u32(64));
        var t = List.of(new GgufWriter.TensorSpec("a", 0, new long[] {1}, 4, o -> o.write(new byte[4])),
                new GgufWriter.TensorSpec("b", 0, new long[] {1}, 4, o -> o.write(new byte[] {7, 7, 7, 7})));
        Path f = tmp.resolve("m.gguf");
        GgufWriter.write(f, kv, t, null);
        byte[] all = Files.readAllBytes(f);
        int meta = GgufWriter.meta(kv, t).length;
        assertEquals(0, meta % 64);
        assertEquals(meta + 128, all.length);
        assertArrayEquals(new byte[] {7, 7, 7, 7}, java.util.Arrays.copyOfRange(all, meta + 64, meta + 68));
        kv.put(GgufWriter.ALIGNMENT_KEY, GgufValue.u32(48));
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.meta(kv, t));
    }

    @Test
    void failureLeavesNothing() throws IOException {
        Path f = tmp.resolve("m.gguf");
        var bad = List.of(new GgufWriter.TensorSpec("a", 0, new long[] {4}, 16, o -> o.write(new byte[12])));
        assertThrows(IllegalStateException.class, () -> GgufWriter.write(f, kv(), bad, null));
        var boom = List.of(new GgufWriter.TensorSpec("a", 0, new long[] {4}, 16, o -> { throw new IOException("disk full"); }));
        assertThrows(IOException.class, () -> GgufWriter.write(f, kv(), boom, null));
        var dup = List.of(new GgufWriter.TensorSpec("a", 0, new long[] {1}, 4, o -> o.write(new byte[4])),
                new GgufWriter.TensorSpec("a", 0, new long[] {1}, 4, o -> o.write(new byte[4])));
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.write(f, kv(), dup, null));
        assertFalse(Files.exists(f));
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.findAny().isEmpty(), "no temp file left");
        }
    }
}
