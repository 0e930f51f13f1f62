package dev.lowbit.formats.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.FormatException;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each case mutates llama.cpp's tiny-llama F16 file and must end in one FormatException with a precise message. */
class GgufMalformedTest {
    @TempDir
    static Path tmp;

    static byte[] original;
    static GgufLayout layout;

    static synchronized byte[] sample() throws IOException {
        if (original == null) {
            original = Files.readAllBytes(Samples.requireShared("tiny-llama/reference/gguf/tiny-llama-F16.gguf"));
            layout = new GgufLayout(original);
        }
        return original.clone();
    }

    static ByteBuffer le(byte[] f) {
        return ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    }

    static UnaryOperator<byte[]> putLong(java.util.function.ToLongFunction<GgufLayout> at, long v) {
        return f -> {
            le(f).putLong((int) at.applyAsLong(layout), v);
            return f;
        };
    }

    static UnaryOperator<byte[]> putInt(java.util.function.ToLongFunction<GgufLayout> at, int v) {
        return f -> {
            le(f).putInt((int) at.applyAsLong(layout), v);
            return f;
        };
    }

    static UnaryOperator<byte[]> truncate(java.util.function.ToLongFunction<GgufLayout> at) {
        return f -> Arrays.copyOf(f, (int) at.applyAsLong(layout));
    }

    /** Renames a metadata key or tensor to another name of the same length. */
    static UnaryOperator<byte[]> rename(String from, String to) {
        return f -> {
            assertEquals(from.length(), to.length());
            long at = layout.kvs.containsKey(from) ? layout.kvs.get(from).keyAt() : layout.infos.get(from).nameAt();
            System.arraycopy(to.getBytes(StandardCharsets.UTF_8), 0, f, (int) at + 8, to.length());
            return f;
        };
    }

    /**
     * Inserts a metadata entry right after the header (64 bytes, so the data section moves by a multiple of the
     * alignment and every tensor offset stays valid): key 'general.alignment', value of the given type and bytes.
     */
    static UnaryOperator<byte[]> insertAlignment(int type, byte[] value) {
        return f -> {
            byte[] key = "general.alignment".getBytes(StandardCharsets.UTF_8);
            ByteBuffer kv = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            kv.putLong(key.length).put(key).putInt(type).put(value);
            ByteBuffer out = ByteBuffer.allocate(f.length + 64).order(ByteOrder.LITTLE_ENDIAN);
            out.put(f, 0, 24).put(kv.array()).put(f, 24, f.length - 24);
            out.putLong(16, le(f).getLong(16) + 1);
            return out.array();
        };
    }

    /** A string value of 27 bytes: 8 + 17 + 4 + 8 + 27 = 64. */
    static byte[] string27() {
        return le(new byte[35]).putLong(27).put("thirty-two bytes, says who?".getBytes(StandardCharsets.UTF_8)).array();
    }

    /** An array of 23 UINT8: 8 + 17 + 4 + 4 + 8 + 23 = 64. */
    static byte[] u8Array23() {
        return le(new byte[35]).putInt(0).putLong(23).array();
    }

    static long infoAt(String tensor, java.util.function.ToLongFunction<GgufLayout.Info> f) {
        return f.applyAsLong(layout.infos.get(tensor));
    }

    static Stream<Arguments> cases() {
        String q = "blk.0.attn_q.weight", k = "blk.0.attn_k.weight", first = "output.weight", last = "output_norm.weight";
        return Stream.of(
                Arguments.of("bad magic", (UnaryOperator<byte[]>) f -> { f[3] = 'L'; return f; }, "not a GGUF file: magic is 'GGUL', expected 'GGUF'"),
                Arguments.of("version 1", putInt(l -> 4, 1), "GGUF version 1 is obsolete"),
                Arguments.of("version 4", putInt(l -> 4, 4), "unsupported GGUF version 4 (lowbit reads versions 2 and 3)"),
                Arguments.of("big-endian", putInt(l -> 4, 0x03000000), "big-endian"),
                Arguments.of("truncated in the magic", truncate(l -> 3), "truncated: magic at offset 0 needs 4 bytes but the file ends at 3"),
                Arguments.of("truncated in the counts", truncate(l -> 20), "truncated: metadata count at offset 16"),
                Arguments.of("truncated in a key", truncate(l -> l.kvs.get("general.name").keyAt() + 10), "truncated"),
                Arguments.of("truncated early", truncate(l -> l.kvs.get("llama.block_count").valueAt() + 2), "metadata count 28 cannot fit in the 197 bytes after the header (each entry takes at least 14)"),
                Arguments.of("truncated in a value", truncate(l -> l.kvs.get("tokenizer.ggml.add_sep_token").valueAt()), "truncated: value of 'tokenizer.ggml.add_sep_token' at offset"),
                Arguments.of("truncated in the token array", truncate(l -> l.kvs.get("tokenizer.ggml.tokens").valueAt() + 5000), "'tokenizer.ggml.tokens' claims 4096 STRING elements"),
                Arguments.of("truncated in the scores", truncate(l -> l.kvs.get("tokenizer.ggml.scores").valueAt() + 5000), "'tokenizer.ggml.scores' claims 4096 FLOAT32 elements"),
                Arguments.of("truncated in the tensor infos", truncate(l -> infoAt(k, i -> i.dimsAt()) + 3), "truncated: dimension 0 of tensor 'blk.0.attn_k.weight'"),
                Arguments.of("truncated before the data", truncate(l -> l.infosEnd), "truncated: the data section would start at offset"),
                Arguments.of("truncated in the data", truncate(l -> original.length - 100), "tensor 'output_norm.weight': data [9838592, 9839616) runs past the end of the data section (9839516 bytes)"),
                Arguments.of("lying tensor count", putLong(l -> 8, 1L << 40), "tensor count 1099511627776 cannot fit in the"),
                Arguments.of("negative tensor count", putLong(l -> 8, -1), "tensor count 18446744073709551615 cannot fit"),
                Arguments.of("lying metadata count", putLong(l -> 16, 1L << 33), "metadata count 8589934592 cannot fit in the"),
                Arguments.of("tensor count one too many", putLong(l -> 8, 40), "name of tensor 39 at offset 92506 claims"),
                Arguments.of("lying key length", putLong(l -> l.kvs.get("general.name").keyAt(), 1L << 50), "metadata key 2 at offset 106 claims 1125899906842624 bytes but only"),
                Arguments.of("lying string value length", putLong(l -> l.kvs.get("general.name").valueAt(), -8), "value of 'general.name' at offset"),
                Arguments.of("lying array length", putLong(l -> l.kvs.get("tokenizer.ggml.tokens").countAt(), 1L << 40), "metadata 'tokenizer.ggml.tokens' claims 1099511627776 STRING elements but only"),
                Arguments.of("lying token length", putLong(l -> l.kvs.get("tokenizer.ggml.tokens").valueAt(), 1L << 40), "element 0 of 'tokenizer.ggml.tokens' at offset"),
                Arguments.of("lying tensor name length", putLong(l -> infoAt(q, i -> i.nameAt()), 1L << 40), "name of tensor 9 at offset"),
                Arguments.of("non-UTF-8 string", (UnaryOperator<byte[]>) f -> { f[(int) layout.kvs.get("general.name").valueAt() + 9] = (byte) 0xff; return f; }, "value of 'general.name' at offset"),
                Arguments.of("unknown value type", putInt(l -> l.kvs.get("general.name").typeAt(), 13), "metadata 'general.name' has unknown value type 13"),
                Arguments.of("unknown element type", putInt(l -> l.kvs.get("tokenizer.ggml.scores").elemTypeAt(), 77), "metadata 'tokenizer.ggml.scores' is an array of unknown value type 77"),
                Arguments.of("nested array", putInt(l -> l.kvs.get("tokenizer.ggml.scores").elemTypeAt(), 9), "metadata 'tokenizer.ggml.scores' is an array of arrays: nested arrays are not supported"),
                Arguments.of("duplicate key", rename("general.type", "general.name"), "duplicate metadata key 'general.name'"),
                Arguments.of("duplicate tensor", rename(k, q), "duplicate tensor name 'blk.0.attn_q.weight'"),
                Arguments.of("unknown tensor type", putInt(l -> infoAt(q, i -> i.typeAt()), 99), "tensor 'blk.0.attn_q.weight': unknown ggml type 99"),
                Arguments.of("removed tensor type", putInt(l -> infoAt(q, i -> i.typeAt()), 31), "tensor 'blk.0.attn_q.weight': ggml type 31 (Q4_0_4_4) was removed"),
                Arguments.of("row not a multiple of the block", putInt(l -> infoAt("blk.0.ffn_down.weight", i -> i.typeAt()), 12), "tensor 'blk.0.ffn_down.weight': rows of 704 elements are not a multiple of the Q4_K block of 256"),
                Arguments.of("misaligned offset", (UnaryOperator<byte[]>) f -> { int at = (int) infoAt(q, i -> i.offsetAt()); le(f).putLong(at, le(f).getLong(at) + 2); return f; },
                        "tensor 'blk.0.attn_q.weight': data offset 5441538 is not a multiple of the alignment 32"),
                Arguments.of("overlapping offsets", (UnaryOperator<byte[]>) f -> { le(f).putLong((int) infoAt(k, i -> i.offsetAt()), le(f).getLong((int) infoAt(q, i -> i.offsetAt())) + 64); return f; },
                        "overlaps tensor 'blk.0.attn_q.weight'"),
                Arguments.of("offset past the end", putLong(l -> infoAt(last, i -> i.offsetAt()), 1L << 40), "tensor 'output_norm.weight': data [1099511627776, 1099511628800) runs past the end of the data section"),
                Arguments.of("offset beyond any file", putLong(l -> infoAt(last, i -> i.offsetAt()), -32), "tensor 'output_norm.weight': data offset 18446744073709551584 is beyond any file"),
                Arguments.of("dims overflowing", (UnaryOperator<byte[]>) f -> { int at = (int) infoAt(first, i -> i.dimsAt()); le(f).putLong(at, 1L << 40).putLong(at + 8, 1L << 40); return f; },
                        "tensor 'output.weight': dimensions [1099511627776, 1099511627776] overflow a 64-bit element count"),
                Arguments.of("bytes overflowing", (UnaryOperator<byte[]>) f -> { int at = (int) infoAt(first, i -> i.dimsAt()); le(f).putLong(at, 1L << 31).putLong(at + 8, 1L << 31); return f; },
                        "tensor 'output.weight': dimensions [2147483648, 2147483648] of F16 overflow a 64-bit byte count"),
                Arguments.of("zero dimension", putLong(l -> infoAt(first, i -> i.dimsAt()), 0), "tensor 'output.weight': dimension 0 is 0 (empty tensors are not supported)"),
                Arguments.of("negative dimension", putLong(l -> infoAt(first, i -> i.dimsAt()) + 8, -5), "tensor 'output.weight': dimension 1 is 18446744073709551611, too large"),
                Arguments.of("huge n_dims", putInt(l -> infoAt(first, i -> i.nDimsAt()), 1_000_000), "tensor 'output.weight': has 1000000 dimensions (must be 1 to 4)"),
                Arguments.of("zero n_dims", putInt(l -> infoAt(first, i -> i.nDimsAt()), 0), "tensor 'output.weight': has 0 dimensions (must be 1 to 4)"),
                Arguments.of("alignment an array", insertAlignment(9, u8Array23()), "'general.alignment' must be UINT32, not ARRAY"),
                Arguments.of("alignment of the wrong type", insertAlignment(8, string27()), "'general.alignment' must be UINT32, not STRING"),
                Arguments.of("alignment zero", (UnaryOperator<byte[]>) f -> alignmentU32(f, 0), "'general.alignment' is 0, not a power of two"),
                Arguments.of("alignment 48", (UnaryOperator<byte[]>) f -> alignmentU32(f, 48), "'general.alignment' is 48, not a power of two"),
                Arguments.of("alignment 64 moves the data section", (UnaryOperator<byte[]>) f -> alignmentU32(f, 64), "tensor 'output_norm.weight': data [9838592, 9839616) runs past the end of the data section (9839584 bytes)"),
                Arguments.of("alignment 4096 misaligns offsets", (UnaryOperator<byte[]>) f -> alignmentU32(f, 4096), "tensor 'blk.0.ffn_down.weight': data offset 4195328 is not a multiple of the alignment 4096"));
    }

    /** Turns 'llama.block_count' (UINT32, a key of the same length) into 'general.alignment' = v. */
    static byte[] alignmentU32(byte[] f, int v) {
        f = rename("llama.block_count", "general.alignment").apply(f);
        le(f).putInt((int) layout.kvs.get("llama.block_count").valueAt(), v);
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneFormatExceptionWithAPreciseMessage(String name, UnaryOperator<byte[]> mutate, String expected) throws IOException {
        byte[] f = sample();
        Path p = tmp.resolve(name.replace(' ', '_') + ".gguf");
        Files.write(p, mutate.apply(f));
        FormatException e = assertThrows(FormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                GgufFile.open(p, arena);
            }
        });
        String msg = e.getMessage();
        assertTrue(msg.startsWith(p + ": "), "names the file: " + msg);
        assertTrue(msg.contains(expected), "says '" + expected + "': " + msg);
        assertEquals(1, msg.lines().count(), msg);
    }

    @Test
    void theUnmutatedSampleOpens() throws IOException {
        byte[] f = sample();
        Path p = tmp.resolve("ok.gguf");
        Files.write(p, f);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(39, GgufFile.open(p, arena).tensors().size());
        }
    }

    @Test
    void emptyFile() throws IOException {
        Path p = Files.write(tmp.resolve("empty.gguf"), new byte[0]);
        var e = assertThrows(FormatException.class, () -> GgufFile.open(p, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("file is empty"), e.getMessage());
    }

    /** Every truncation point of the header and metadata gives a FormatException quickly, never another exception. */
    @Test
    void everyTruncationOfTheHeaderFailsCleanly() throws IOException {
        byte[] f = sample();
        Path p = tmp.resolve("cut.gguf");
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int n = 1; n < layout.infosEnd + 40; n += n < 200 ? 1 : 997) {
                Files.write(p, Arrays.copyOf(f, n));
                try (Arena arena = Arena.ofConfined()) {
                    GgufFile.open(p, arena);
                    org.junit.jupiter.api.Assertions.fail("opened a file cut at " + n);
                } catch (FormatException e) {
                    assertFalse(e.getMessage().isBlank());
                }
            }
        });
    }

    @Test
    void aLargeTokenArrayIsQuick() throws IOException {
        byte[] f = sample();
        Path p = tmp.resolve("quick.gguf");
        Files.write(p, f);
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            try (Arena arena = Arena.ofConfined()) {
                GgufFile.open(p, arena);
            }
        }
        double ms = (System.nanoTime() - t0) / 20e6;
        assertTrue(ms < 200, "open takes " + ms + " ms");
    }
}
