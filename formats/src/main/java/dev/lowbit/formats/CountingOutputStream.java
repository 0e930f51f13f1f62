package dev.lowbit.formats;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;

/**
 * Counts what one tensor's producer writes, so writers can check it wrote exactly the bytes its header announced.
 * Closing it leaves the underlying stream open: the writer owns that.
 */
public final class CountingOutputStream extends FilterOutputStream implements FillableOutput {
    private long count;

    public CountingOutputStream(OutputStream out) {
        super(out);
    }

    public long count() {
        return count;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        count += len;
    }

    @Override
    public void fill(int length, Filler filler) throws IOException {
        FillableOutput.fill(out, length, filler);
        count += length;
    }

    @Override
    public void put(MemorySegment segment) throws IOException {
        FillableOutput.put(out, segment);
        count += segment.byteSize();
    }

    @Override
    public void close() {
        // the caller owns the underlying stream
    }
}
