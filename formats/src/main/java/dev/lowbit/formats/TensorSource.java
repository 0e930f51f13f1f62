package dev.lowbit.formats;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** One tensor to be written: its description and a producer of exactly byteSize() bytes, streamed. */
public interface TensorSource {
    String name();

    DType dtype();

    long[] shape();

    void writeTo(OutputStream out) throws IOException;

    default long byteSize() {
        return Tensor.numel(shape()) * dtype().size();
    }

    /** A stored tensor copied as it is (or renamed). */
    static TensorSource of(String name, Tensor t) {
        return of(name, t.dtype(), t.shape(), t.data());
    }

    static TensorSource of(Tensor t) {
        return of(t.name(), t);
    }

    /** Raw little-endian bytes from a segment. */
    static TensorSource of(String name, DType dtype, long[] shape, MemorySegment bytes) {
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return dtype; }
            public long[] shape() { return shape; }
            public void writeTo(OutputStream out) throws IOException { copy(bytes, out); }
        };
    }

    static void copy(MemorySegment src, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, src.byteSize()))];
        for (long o = 0; o < src.byteSize(); o += buf.length) {
            int n = (int) Math.min(buf.length, src.byteSize() - o);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, o, buf, 0, n);
            out.write(buf, 0, n);
        }
    }
}
