package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
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
     * activations of all tokens are quantized first. From {@link #TILED_FROM} tokens on, the int32 sums come from the
     * float tiles ({@link #tiledDots}); below (generating), tasks of {@link #ROWS} weight rows each take every token, the
     * int8 dots in vector lanes, four rows against a token at a time ({@link VectorOps#dotBytesRows}). Both are exact
     * ints, the same as bitsandbytes' int32 sums.
     */
    public void matmul(float[] x, int tokens, int seqLen, float[] out, float[] bias) {
        int K = cols(), R = rows();
        byte[] a = new byte[tokens * K];
        float[] rs = new float[tokens];
        int[][] oc = new int[tokens][];
        int seqs = (tokens + seqLen - 1) / seqLen;
        quantize(x, tokens, seqLen, a, rs, oc);
        float[][] wo = new float[seqs][];
        Kernels.parallel(seqs, s -> wo[s] = outlierWeights(oc[s * seqLen]));
        float[] dots = tokens >= TILED_FROM ? tiledDots(a, tokens) : rowDots(a, tokens);
        // steps 3 and 4 for a token's rows at once, each row's terms in bitsandbytes' order (the outlier columns in
        // column order): loops over rows that C2 vectorizes, a multiply then an add, the same roundings lane by lane
        Kernels.parallel(tokens, t -> {
            int o = t * R, n = oc[t].length;
            float[] scb = w.rowAbsmax(), wt = wo[t / seqLen];
            float rt = rs[t];
            for (int r = 0; r < R; r++) out[o + r] = dots[o + r] * (rt * scb[r]) * 6.200124e-05f;
            if (bias != null) for (int r = 0; r < R; r++) out[o + r] += bias[r];
            for (int j = 0; j < n; j++) {
                float xk = x[t * K + oc[t][j]];
                for (int r = 0, b = j * R; r < R; r++) out[o + r] += xk * wt[b + r];
            }
        });
    }

    /**
     * The int32 sums Σ a·q of every token and row (as floats: the conversion bitsandbytes makes), tasks of
     * {@link #ROWS} weight rows each taking every token, four rows against a token at a time in vector lanes
     * ({@link VectorOps#dotBytesRows}).
     */
    private float[] rowDots(byte[] a, int tokens) {
        int K = cols(), R = rows();
        float[] dots = new float[tokens * R];
        VectorOps ops = Kernels.ops();
        MemorySegment q = w.q();
        Kernels.parallel((R + ROWS - 1) / ROWS, g -> {
            int[] d = new int[4];
            for (int r0 = g * ROWS, end = Math.min(R, g * ROWS + ROWS), rn; r0 < end; r0 += rn) {
                rn = tokens > 1 ? Math.min(4, end - r0) : 1; // one token (decoding): a row at a time streamed faster
                for (int t = 0; t < tokens; t++) {
                    ops.dotBytesRows(a, t * K, q, (long) r0 * K, K, rn, K, d);
                    for (int r = r0; r < r0 + rn; r++) dots[t * R + r] = d[r - r0];
                }
            }
        });
        return dots;
    }

    /**
     * wo[j · rows + r] = q[r][cols[j]] · SCB[r] · (1/127), the dequantized weights of a sequence's outlier columns, once
     * per sequence instead of once per token (the same floats: the same products in the same order).
     */
    private float[] outlierWeights(int[] cols) {
        int R = rows(), K = cols(), n = cols.length;
        float[] wo = new float[R * n];
        MemorySegment q = w.q();
        for (int r = 0; r < R; r++) {
            float scb = w.rowAbsmax()[r];
            for (int j = 0; j < n; j++) wo[j * R + r] = q.get(ValueLayout.JAVA_BYTE, (long) r * K + cols[j]) * scb * 7.874015718698502e-3f;
        }
        return wo;
    }

    /** 1.5 · 2^23: (t + ROUND) − ROUND is t rounded to the nearest integer, ties to even (Math.rint) for |t| < 2^22. */
    private static final float ROUND = 12582912f;

    /** Tokens from which the int32 sums go through the float tiles ({@link #tiledDots}) instead of a dot per row. */
    static final int TILED_FROM = 16;
    /**
     * Columns whose code products a float32 sum holds exactly: |a·q| ≤ 127² = 16129, and 16129 · 1024 < 2^24, so every
     * partial sum of a chunk, in any order, is an integer below 2^24.
     */
    static final int CHUNK = 1024;

    /**
     * The int32 sums Σ a·q of every token and row (as floats, exact), through the tiled float matrix multiply: the codes
     * of both sides are small integers, exact in float32, and each chunk of {@value #CHUNK} columns sums exactly there
     * (its partial sums stay below 2^24); the chunks' sums are added as ints. The same numbers as bitsandbytes' int32
     * dot products, at the float tiles' speed (prompt processing of an LLM.int8 82M model: a dot per row ran at a third
     * of the other formats' speed).
     */
    private float[] tiledDots(byte[] a, int tokens) {
        int K = cols(), R = rows(), chunks = (K + CHUNK - 1) / CHUNK;
        float[] part = new float[tokens * R];
        int[] sums = chunks > 1 ? new int[tokens * R] : null;
        for (int k0 = 0; k0 < K; k0 += CHUNK) {
            int kn = Math.min(CHUNK, K - k0), from = k0;
            float[] xc = new float[tokens * kn];
            Kernels.parallel(tokens, t -> {
                for (int k = 0; k < kn; k++) xc[t * kn + k] = a[t * K + from + k];
            });
            Kernels.matmul(new Codes(w, k0, kn), xc, tokens, part, null);
            if (sums != null) Kernels.parallel(tokens, t -> {
                for (int r = t * R; r < t * R + R; r++) sums[r] += (int) part[r];
            });
        }
        if (sums != null) for (int i = 0; i < part.length; i++) part[i] = sums[i];
        return part;
    }

    /** Columns [k0, k0 + kn) of the weight's int8 codes as floats (exact), for the float tiles. */
    private record Codes(Int8RowWeights w, int k0, int kn) implements Weights {
        public int rows() { return w.rows(); }
        public int cols() { return kn; }
        public String format() { return "int8 codes"; }

        public void decodeRows(int row, int n, float[] dst) {
            MemorySegment q = w.q();
            for (int r = 0; r < n; r++) {
                long base = (long) (row + r) * w.cols() + k0;
                for (int c = 0; c < kn; c++) dst[r * kn + c] = q.get(ValueLayout.JAVA_BYTE, base + c);
            }
        }
    }

    /**
     * Steps 1 and 2: codes into a, row scales into rs, each token's sequence's outlier columns into oc. The float16
     * casts and the codes are a parallel task per token; the outlier columns one per sequence.
     */
    private void quantize(float[] x, int tokens, int seqLen, byte[] a, float[] rs, int[][] oc) {
        int K = cols(), seqs = (tokens + seqLen - 1) / seqLen;
        float[] x16 = new float[tokens * K];
        Kernels.parallel(tokens, t -> {
            for (int k = t * K; k < t * K + K; k++) x16[k] = Float.float16ToFloat(Float.floatToFloat16(x[k]));
        });
        boolean[][] outlier = new boolean[seqs][K];
        Kernels.parallel(seqs, s -> {
            boolean[] o = outlier[s];
            for (int t = s * seqLen; t < Math.min(tokens, s * seqLen + seqLen); t++)
                for (int k = 0; k < K; k++) if (Math.abs(x16[t * K + k]) >= threshold) o[k] = true;
            int[] cols = IntStream.range(0, K).filter(k -> o[k]).toArray();
            for (int t = s * seqLen; t < Math.min(tokens, s * seqLen + seqLen); t++) oc[t] = cols;
        });
        // Loops C2 vectorizes: the row max by a select, rint by adding and taking away 1.5 · 2^23 (exact for the
        // quotients of non-outlier values, at most 127 and a rounding; the outlier columns' codes are set to 0 after)
        Kernels.parallel(tokens, t -> {
            int base = t * K;
            float m = 0;
            for (int k = base; k < base + K; k++) {
                float v = Math.abs(x16[k]);
                m = Math.max(m, v < threshold ? v : 0f);
            }
            float scale = (1f / m) * 127f; // torch: 127.0 / SCA = reciprocal(SCA) · 127
            if (m == 0) Arrays.fill(a, base, base + K, (byte) 0);
            else for (int k = base; k < base + K; k++) a[k] = (byte) (int) (x16[k] * scale + ROUND - ROUND);
            for (int k : oc[t]) a[base + k] = 0;
            rs[t] = m;
        });
    }
}
