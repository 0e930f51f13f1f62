package dev.lowbit.formats.gguf;

import java.lang.foreign.MemorySegment;

/**
 * One tensor of a GGUF file. {@code dims} are in ggml order (ne[0], the contiguous row length, first);
 * {@code shape} is the same in numpy order (reversed). {@code offset} is relative to the data section and
 * {@code data} is the tensor's bytes, a slice of the mapped file.
 */
public record GgufTensor(String name, int type, long[] dims, long[] shape, long offset, MemorySegment data) {

    public GgmlType ggmlType() {
        return GgmlType.of(type);
    }

    public String typeName() {
        return GgmlType.nameOf(type);
    }

    public long numel() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** Elements per row (ne[0]). */
    public long cols() {
        return dims[0];
    }

    /** Rows: the product of every dimension but the first. */
    public long rows() {
        return numel() / dims[0];
    }

    public long byteSize() {
        return data.byteSize();
    }
}
