package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The numeric kernels of the inference core. Two implementations: {@link ScalarOps}, plain loops that tests trust,
 * and {@link PanamaOps} on the Vector API; {@link Kernels#ops()} picks one at start-up.
 */
public interface VectorOps {
    /** How many weight rows one panel holds. */
    int panelRows();

    /**
     * out[outOff + t*outStride + r] = Σ_k x[xOff + t*cols + k] · panel[panelOff + k*panelRows() + r] for t < tokens,
     * r < rows: a block of weight rows stored k-major (a "panel"), so each step of k reads contiguous rows.
     */
    void matmulPanel(float[] x, int xOff, int tokens, int cols, float[] panel, int panelOff, int rows, float[] out, int outOff, int outStride);

    /** Row-major rows [rn × cols] to a k-major panel [cols × width] (what {@link #matmulPanel} reads); rows from rn on are zero. */
    void toPanel(float[] rowsMajor, int rn, int cols, int width, float[] panel);

    float dot(float[] a, int ao, float[] b, int bo, int n);

    /** Σ a[ao + i] · b[bo + i] over i < n as an exact int (n below 2^31 / 128²): int8 codes by int8 codes. */
    int dotBytes(byte[] a, int ao, MemorySegment b, long bo, int n);

    /** out[r] = {@link #dotBytes}(a, ao, b, bo + r·stride, n) for r < rows: one activation row against several weight rows. */
    void dotBytesRows(byte[] a, int ao, MemorySegment b, long bo, long stride, int rows, int n, int[] out);

    /** y += a·x */
    void axpy(float a, float[] x, int xo, float[] y, int yo, int n);

    /**
     * out[oo + c] = Σ_{j < rows} w[wo + j] · v[vo + j·stride + c] for c < n, j in order: the same floats as zeroing
     * out and calling {@link #axpy} once per row.
     */
    void weightedSum(float[] w, int wo, int rows, float[] v, int vo, int stride, float[] out, int oo, int n);

    /** y += x */
    void add(float[] y, int yo, float[] x, int xo, int n);

    void bf16ToFloat(MemorySegment src, long byteOffset, float[] dst, int n);

    /** n little-endian IEEE halves from byteOffset of src to floats: Float.float16ToFloat, bit for bit. */
    void f16ToFloat(MemorySegment src, long byteOffset, float[] dst, int n);

    /** out = w · x / sqrt(mean(x²) + eps) */
    void rmsNorm(float[] x, int xo, float[] w, float eps, float[] out, int oo, int n);

    /** out = (x − mean) / sqrt(var + eps) · w + b */
    void layerNorm(float[] x, int xo, float[] w, float[] b, float eps, float[] out, int oo, int n);

    /** In place over x[off, off+n). */
    void softmax(float[] x, int off, int n);

    /** In place: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
    void geluTanh(float[] x, int off, int n);

    /** gate[i] = silu(gate[i]) · up[i] */
    void siluMul(float[] gate, float[] up, int off, int n);

    /** Half-split RoPE on x[off, off+2·half): (a, b) → (a·cos − b·sin, b·cos + a·sin), cos/sin from cs[csOff, csOff+half). */
    void rope(float[] x, int off, int half, float[] cos, float[] sin, int csOff);

    /** Interleaved RoPE (Meta / GPT-J / GGUF) on x[off, off+2·half): pairs (2i, 2i+1) rotate by cos/sin[csOff + i]. */
    void ropeInterleaved(float[] x, int off, int half, float[] cos, float[] sin, int csOff);

    /** scores[off + j] += slope · j for j < n (BLOOM's ALiBi bias over key positions). */
    void alibi(float[] scores, int off, int n, float slope);
}
