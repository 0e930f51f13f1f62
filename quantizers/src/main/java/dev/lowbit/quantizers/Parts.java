package dev.lowbit.quantizers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Little-endian bytes of heap arrays: the parts of one quantized weight. */
final class Parts {
    private Parts() {}

    static byte[] of(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    static byte[] of(short[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(v);
        return b.array();
    }

    static byte[] of(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
