package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * An LLM.int8 weight run the way bitsandbytes runs it at inference (MatMul8bitLt with its default kernels:
 * int8_vectorwise_quant, int8_mixed_scaled_mm, int8_mm_dequant), so that the drift lowbit reports is the drift a
 * transformers + bitsandbytes user sees, not only the weights' rounding:
 * <ol>
 * <li>activations cast to float16; within one sequence, every column holding a value with |x16| ≥ threshold is an
 * outlier column;</li>
 * <li>per token row: the outlier values zeroed, s = max |x16| (float32), a = round-half-even(x16 · (127 / s)), and
 * the outlier columns' codes set to 0 (127/s evaluated as torch does, (1/s) · 127);</li>
 * <li>y = float(Σ a·q) · (s · SCB) · 6.200124e-05 + bias (int32 dot product, 1/127² as bitsandbytes writes it);</li>
 * <li>plus, for the outlier columns, the float32 activations times the dequantized weights (q · SCB · (1/127)).</li>
 * </ol>
 * What this does not model: transformers runs the rest of such a model in float16 by default.
 */
public record Int8LtWeights(Int8RowWeights w, float threshold) implements Weights {
    public int rows() { return w.rows(); }
    public int cols() { return w.cols(); }
    public void decodeRows(int row, int n, float[] dst) { w.decodeRows(row, n, dst); }
    public String format() { return "int8 rows, LLM.int8 run time (threshold " + threshold + ")"; }

    /** Rows a task runs: their codes (8 × cols bytes) stay in L1 while every token's codes are dotted with them. */
    private static final int ROWS = 8;

    /**
     * out[t][r] for `tokens` rows of x, made of sequences of seqLen rows (outlier columns are found per sequence). The
     * activations of all tokens are quantized first; then tasks of {@link #ROWS} weight rows each take every token,
     * the int8 dots in vector lanes, four rows against a token at a time ({@link VectorOps#dotBytesRows}: exact ints, the
     * same as bitsandbytes' int32 sums).
     */
    public void matmul(float[] x, int tokens, int seqLen, float[] out, float[] bias) {
        int K = cols(), R = rows();
        byte[] a = new byte[tokens * K];
        float[] rs = new float[tokens];
        int[][] oc = new int[tokens][];
        int seqs = (tokens + seqLen - 1) / seqLen;
        Kernels.parallel(seqs, s -> quantize(x, s * seqLen, Math.min(tokens, s * seqLen + seqLen), a, rs, oc));
        VectorOps ops = Kernels.ops();
        MemorySegment q = w.q();
        Kernels.parallel((R + ROWS - 1) / ROWS, g -> {
            int[] dots = new int[4];
            for (int r0 = g * ROWS, end = Math.min(R, g * ROWS + ROWS), rn; r0 < end; r0 += rn) {
                rn = tokens > 1 ? Math.min(4, end - r0) : 1; // one token (decoding): a row at a time streamed faster
                for (int t = 0; t < tokens; t++) {
                    ops.dotBytesRows(a, t * K, q, (long) r0 * K, K, rn, K, dots);
                    for (int r = r0; r < r0 + rn; r++) {
                        long row = (long) r * K;
                        float scb = w.rowAbsmax()[r];
                        float y = (float) dots[r - r0] * (rs[t] * scb) * 6.200124e-05f;
                        if (bias != null) y += bias[r];
                        for (int k : oc[t]) y += x[t * K + k] * (q.get(ValueLayout.JAVA_BYTE, row + k) * scb * 7.874015718698502e-3f);
                        out[t * R + r] = y;
                    }
                }
            }
        });
    }

    /** Steps 1 and 2 for the sequence of tokens [t0, t1): codes into a, row scales into rs, outlier columns into oc. */
    private void quantize(float[] x, int t0, int t1, byte[] a, float[] rs, int[][] oc) {
        int K = cols();
        boolean[] outlier = new boolean[K];
        float[] x16 = new float[(t1 - t0) * K];
        for (int t = t0; t < t1; t++)
            for (int k = 0; k < K; k++) {
                float h = Float.float16ToFloat(Float.floatToFloat16(x[t * K + k]));
                x16[(t - t0) * K + k] = h;
                if (Math.abs(h) >= threshold) outlier[k] = true;
            }
        int[] cols = IntStream.range(0, K).filter(k -> outlier[k]).toArray();
        for (int t = t0; t < t1; t++) {
            int base = (t - t0) * K;
            float m = 0;
            for (int k = 0; k < K; k++) {
                float v = x16[base + k];
                if (Math.abs(v) < threshold) m = Math.max(m, Math.abs(v));
            }
            float scale = (1f / m) * 127f; // torch: 127.0 / SCA = reciprocal(SCA) · 127
            for (int k = 0; k < K; k++) {
                float v = x16[base + k];
                a[t * K + k] = outlier[k] || m == 0 ? 0 : (byte) (int) Math.rint(v * scale);
            }
            rs[t] = m;
            oc[t] = cols;
        }
    }
}
