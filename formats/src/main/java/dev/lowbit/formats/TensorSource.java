package dev.lowbit.formats;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;

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

    /** Raw little-endian bytes from a segment (handed to a background writer as they are: see FillableOutput.put). */
    static TensorSource of(String name, DType dtype, long[] shape, MemorySegment bytes) {
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return dtype; }
            public long[] shape() { return shape; }
            public void writeTo(OutputStream out) throws IOException { FillableOutput.put(out, bytes); }
        };
    }
}
