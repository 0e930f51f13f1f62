package dev.lowbit.quantizers.format;

import dev.lowbit.formats.DType;
import dev.lowbit.quantizers.QuantError;
import java.lang.foreign.MemorySegment;

/**
 * One weight format, as ggml's type traits: elements per block, bytes per block, encode and decode, and its names.
 * A matrix row is a whole number of blocks stored contiguously, and rows follow each other, so row r of a [rows ×
 * cols] matrix starts at byte r · rowBytes(cols). Each implementation is one small class registered in
 * {@link WeightFormats}: adding a format = one file + one registry line.
 */
public interface WeightFormat {
    /** Canonical name: the GGUF type name for ggml types ("Q4_K", "F16"), lowbit's scheme name otherwise. */
    String name();

    /** GGUF type id (ggml_type), or -1 when GGUF has no such type. */
    int ggmlType();

    /** Elements per block. */
    int blockSize();

    /** Bytes per block. */
    int blockBytes();

    /**
     * Encodes n floats (a multiple of blockSize()) from src[srcOff ..] as n / blockSize() blocks written to
     * dst[dstOff ..]. Bit-exact to the reference implementation named in the class comment.
     */
    void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff);

    /**
     * As {@link #quantize(float[], int, int, byte[], int)}, minimising the error weighted by importance[impOff + j] for
     * src[srcOff + j] (llama.cpp's quant_weights: an importance-matrix row, i.e. one value per input column); null
     * importance = unweighted. Formats whose encoding ignores importance ({@link #usesImportance()} false) encode as
     * without it.
     */
    default void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        quantize(src, srcOff, n, dst, dstOff);
    }

    /**
     * As {@link #quantize(float[], int, int, byte[], int, float[], int)}, and the error of what it stored against src
     * added to err: by default the written blocks decoded again into back (at least n long) and compared value by value;
     * a format may measure while it encodes instead.
     */
    default void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, float[] back, QuantError.Acc err) {
        quantize(src, srcOff, n, dst, dstOff, importance, impOff);
        dequantize(MemorySegment.ofArray(dst), dstOff, n, back, 0);
        for (int c = 0; c < n; c++) err.add(src[srcOff + c], back[c]);
    }

    /** Whether an importance changes this format's encoding (llama-quantize's quant_weights are used). */
    default boolean usesImportance() {
        return false;
    }

    /** The same format encoding with a per-block scale search (same bytes layout and decoder), or null when it has none. */
    default WeightFormat withScaleSearch() {
        return null;
    }

    /** Decodes n elements (a multiple of blockSize()) whose first block starts at byte off of src into dst[dstOff ..]. */
    void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff);

    /**
     * Whether values stored as dtype are this format's bytes already (BF16 weights to BF16), so that
     * {@link #copy} can take them as they are instead of decoding them to float and encoding them again.
     */
    default boolean copies(DType dtype) {
        return false;
    }

    /**
     * Whether the n values at byte off of src, stored in a dtype {@link #copies} takes, are byte for byte what
     * {@link #quantize} writes for their decoded values (false where the encoder changes some: it quiets NaNs), so
     * their bytes can be written as they are.
     */
    default boolean storedAsEncoded(MemorySegment src, long off, int n) {
        throw new UnsupportedOperationException(name() + " takes no stored type as it is");
    }

    /**
     * n values stored in a dtype {@link #copies} takes, from byte off of src, as this format's bytes into dst[dstOff ..]:
     * byte for byte what {@link #quantize} writes for their decoded values. A bulk copy, or for a range the encoder
     * would change ({@link #storedAsEncoded}), the values decoded and encoded.
     */
    default void copy(MemorySegment src, long off, int n, byte[] dst, int dstOff) {
        if (storedAsEncoded(src, off, n)) {
            MemorySegment.copy(src, off, MemorySegment.ofArray(dst), dstOff, rowBytes(n));
            return;
        }
        float[] v = new float[n];
        dequantize(src, off, n, v, 0);
        quantize(v, 0, n, dst, dstOff);
    }

    /** Bytes of one row of cols elements (cols a multiple of blockSize()). */
    default long rowBytes(long cols) {
        return cols / blockSize() * blockBytes();
    }

    default double bitsPerWeight() {
        return 8.0 * blockBytes() / blockSize();
    }
}
