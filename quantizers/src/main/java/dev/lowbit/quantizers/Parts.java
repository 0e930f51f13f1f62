package dev.lowbit.quantizers;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Heap arrays as tensors to write: the parts of one quantized weight. */
final class Parts {
    private Parts() {}

    interface Bytes {
        byte[] get();
    }

    /** A part whose bytes are produced on demand (by the shared quantization of its weight). */
    static TensorSource lazy(String name, DType dtype, long[] shape, Bytes bytes) {
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return dtype; }
            public long[] shape() { return shape; }
            public void writeTo(OutputStream out) throws IOException { out.write(bytes.get()); }
        };
    }

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
