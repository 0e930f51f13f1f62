package dev.lowbit.kernels;

/** A float32 matrix [rows × cols] on the heap: activations used as the right-hand side (attention's K and Vᵀ). */
public record ArrayWeights(float[] data, int rows, int cols) implements Weights {
    public void decodeRows(int row, int n, float[] dst) {
        System.arraycopy(data, row * cols, dst, 0, n * cols);
    }

    public String format() {
        return "f32 heap";
    }
}
