package dev.lowbit.kernels;

/**
 * A weight matrix [rows × cols] as stored (rows = output features). Kernels ask for a few rows at a time, decoded to
 * float into a small scratch that stays in L1, so that no f32 copy of the whole weight ever exists.
 */
public interface Weights {
    int rows();

    int cols();

    /** Decodes rows [row, row + n) into dst[0 .. n*cols) (row-major). */
    void decodeRows(int row, int n, float[] dst);

    /** A short name of the stored layout, e.g. "bf16". */
    String format();
}
