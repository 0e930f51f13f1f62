package dev.lowbit.formats;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An output that lets a producer encode straight into its buffer, so the bytes are not made in an array of the
 * producer's and then copied (the background writer of weight files: about a copy of the whole file saved).
 */
public interface FillableOutput {
    /** Writes length bytes into buf[off, off + length). */
    interface Filler {
        void fill(byte[] buf, int off) throws IOException;
    }

    /** Calls filler with room for length bytes of this output's own, then takes them as written, in order. */
    void fill(int length, Filler filler) throws IOException;

    /** length bytes made by filler written to out: in out's own buffer when it is fillable, else through an array. */
    static void fill(OutputStream out, int length, Filler filler) throws IOException {
        if (out instanceof FillableOutput f) f.fill(length, filler);
        else {
            byte[] b = new byte[length];
            filler.fill(b, 0);
            out.write(b);
        }
    }
}
