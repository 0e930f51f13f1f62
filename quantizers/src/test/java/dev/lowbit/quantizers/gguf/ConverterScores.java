package dev.lowbit.quantizers.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A GGUF (or its head) with tokenizer.ggml.scores as convert_hf_to_gguf.py writes them for a Llama-style
 * tokenizer.json: −1000 for every token (LlamaHfVocab's placeholder). lowbit writes merge ranks there
 * ({@link GgufVocab#score}), its one deliberate difference from llama.cpp's files of such a model; comparing a copy
 * with the converter's scores checks that every other byte is llama.cpp's.
 */
public final class ConverterScores {
    private ConverterScores() {}

    public static byte[] of(byte[] gguf) {
        byte[] key = "tokenizer.ggml.scores".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(gguf, key);
        assertTrue(at >= 8, "no tokenizer.ggml.scores");
        ByteBuffer b = ByteBuffer.wrap(gguf.clone()).order(ByteOrder.LITTLE_ENDIAN);
        int p = at + key.length;
        assertEquals(9, b.getInt(p), "an array");
        assertEquals(6, b.getInt(p + 4), "of float32");
        long n = b.getLong(p + 8);
        for (int i = 0; i < n; i++) b.putFloat(p + 16 + 4 * i, -1000f);
        return b.array();
    }

    private static int indexOf(byte[] a, byte[] key) {
        outer:
        for (int i = 0; i + key.length <= a.length; i++) {
            for (int j = 0; j < key.length; j++) if (a[i + j] != key[j]) continue outer;
            return i;
        }
        return -1;
    }
}
