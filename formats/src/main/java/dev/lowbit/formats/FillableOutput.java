package dev.lowbit.formats;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An output that lets a producer encode straight into its buffer, so the bytes are not made in an array of the
 * producer's and then copied (the background writer of weight files: about a copy of the whole file saved), and take
 * bytes that are already in memory, such as a mapped region of an input file, without copying them at all.
 */
public interface FillableOutput {
    /** Writes length bytes into buf[off, off + length). */
    interface Filler {
        void fill(byte[] buf, int off) throws IOException;
    }

    /** Calls filler with room for length bytes of this output's own, then takes them as written, in order. */
    void fill(int length, Filler filler) throws IOException;

    /**
     * Writes the bytes of segment, in order after what came before. The segment must stay readable and unchanged until
     * this output is closed or abandoned: the background writer hands it to the kernel as it is, later.
     */
    void put(MemorySegment segment) throws IOException;

    /** length bytes made by filler written to out: in out's own buffer when it is fillable, else through an array. */
    static void fill(OutputStream out, int length, Filler filler) throws IOException {
        if (out instanceof FillableOutput f) f.fill(length, filler);
        else {
            byte[] b = new byte[length];
            filler.fill(b, 0);
            out.write(b);
        }
    }

    /** The bytes of segment written to out: as they are when out is fillable, else copied through an array. */
    static void put(OutputStream out, MemorySegment segment) throws IOException {
        if (out instanceof FillableOutput f) {
            f.put(segment);
            return;
        }
        byte[] b = new byte[(int) Math.min(segment.byteSize(), 1 << 20)];
        for (long at = 0; at < segment.byteSize(); at += b.length) {
            int n = (int) Math.min(b.length, segment.byteSize() - at);
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, at, b, 0, n);
            out.write(b, 0, n);
        }
    }
}
