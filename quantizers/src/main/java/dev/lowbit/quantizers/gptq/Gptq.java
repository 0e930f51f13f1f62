package dev.lowbit.quantizers.gptq;

import dev.lowbit.quantizers.format.WeightFormat;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al. 2022, Algorithm 1) for any block {@link WeightFormat}: columns are quantized in order, and each
 * column's error is spread over the columns not yet quantized with the upper Cholesky factor U of the dampened inverse
 * Hessian (H⁻¹ = UᵀU, H = XᵀX of the layer's inputs), in lazy batches whose trailing update is one matrix product.
 *
 * <p>Block formats choose their parameters (scales, mins, sub-block scales) per block, so a column's code depends on
 * its block. A row's block is encoded by the format's own quantizer (through a {@link BlockEncoder}, which may weight
 * by importance) when the sweep reaches its first column, from that block's current, error-updated weights; this fixes
 * the block parameters. Then each column of the block takes the nearest value the format can store with those
 * parameters, given the column's error-updated weight (so columns inside a block get feedback too), and its error
 * (w − q) / U_qq spreads to every later column. "Nearest value with fixed parameters" is generic: {@link CodeBits}
 * finds each element's code bits by probing the format, and the candidates come from the format's own decoder. A format
 * whose codes cannot be found that way (none of lowbit's 4/5/6/8-bit formats) keeps the codes its encoder chose at the
 * block start. Re-encoding the whole block per column instead would change the parameters under columns already
 * fixed. Every block is checked to decode to exactly the values the error feedback used, so the output is a plain
 * file of the format.
 *
 * <p>act_order (columns by descending diag H) is not offered: blocks run along the stored column order, so it would
 * need the permutation stored with the weight, which none of these formats has.
 */
public final class Gptq {
    private Gptq() {}

    /** Dampening (fraction of the mean diagonal added to it) and the lazy batch in columns (rounded up to whole blocks). */
    public record Options(double damp, int batch) {
        public static final Options DEFAULT = new Options(0.01, 128);

        public Options {
            if (!(damp >= 0) || damp > 1) throw new IllegalArgumentException("GPTQ dampening " + damp + " must be in [0, 1]");
            if (batch < 1) throw new IllegalArgumentException("GPTQ batch " + batch + " must be positive");
        }
    }

    /**
     * Quantizes w [rows × cols] (row-major) with h = XᵀX (cols × cols, row-major; any positive scale) into the bytes of
     * f, row after row (row r at r · f.rowBytes(cols)). h is not modified.
     */
    public static byte[] quantize(float[] w, int rows, int cols, double[] h, WeightFormat f, BlockEncoder enc, Options o) {
        int bs = f.blockSize();
        if (cols % bs != 0) throw new IllegalArgumentException("rows of " + cols + " are not a multiple of " + f.name() + "'s block " + bs);
        if (w.length != (long) rows * cols) throw new IllegalArgumentException("weight has " + w.length + " values, not " + rows + " × " + cols);
        if (h.length != (long) cols * cols) throw new IllegalArgumentException("Hessian has " + h.length + " values, not " + cols + "²");
        double[] hd = h.clone();
        boolean[] dead = new boolean[cols];
        double mean = 0;
        for (int i = 0; i < cols; i++) {
            double d = hd[i * cols + i];
            if (!Double.isFinite(d)) throw new IllegalArgumentException("Hessian has a non-finite diagonal at column " + i);
            if (d == 0) {
                dead[i] = true; // an input that is always zero: its weights cannot matter, GPTQ zeroes them
                hd[i * cols + i] = 1;
            }
            mean += hd[i * cols + i];
        }
        mean /= cols;
        for (int i = 0; i < cols; i++) hd[i * cols + i] += o.damp() * mean;
        double[] u = Cholesky.inverseUpper(hd, cols);
        if (u == null) throw new IllegalArgumentException("Hessian is not positive definite even with dampening " + o.damp() + " (raise it)");
        int batch = Math.min(cols, (o.batch() + bs - 1) / bs * bs);
        int rowBytes = Math.toIntExact(f.rowBytes(cols));
        byte[] out = new byte[Math.multiplyExact(rows, rowBytes)];
        int group = 8;
        IntStream.range(0, (rows + group - 1) / group).parallel().forEach(g -> {
            int lo = g * group, hi = Math.min(rows, lo + group);
            rowsOf(w, lo, hi, cols, dead, u, f, enc, batch, out, rowBytes);
        });
        return out;
    }

    /** GPTQ over rows [lo, hi): rows are independent given U; a group shares U's rows while they are in cache. */
    private static void rowsOf(float[] w, int lo, int hi, int cols, boolean[] dead, double[] u, WeightFormat f, BlockEncoder enc,
                               int batch, byte[] out, int rowBytes) {
        int n = hi - lo, bs = f.blockSize();
        double[] wd = new double[n * cols];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < cols; c++) wd[r * cols + c] = dead[c] ? 0 : w[(lo + r) * cols + c];
        float[] block = new float[bs], q = new float[n * cols], check = new float[bs];
        MemorySegment seg = MemorySegment.ofArray(out);
        CodeBits codes = CodeBits.of(f);
        float[][] cand = new float[n][];
        double[] err = new double[n * batch];
        for (int i1 = 0; i1 < cols; i1 += batch) {
            int i2 = Math.min(cols, i1 + batch), nb = i2 - i1;
            for (int i = i1; i < i2; i++) {
                int e = i % bs, start = i - e;
                for (int r = 0; r < n; r++) {
                    int row = r * cols;
                    long at = (long) (lo + r) * rowBytes + (long) start / bs * f.blockBytes();
                    if (e == 0) {
                        for (int k = 0; k < bs; k++) block[k] = (float) wd[row + i + k];
                        enc.encode(block, 0, bs, out, (int) at, i);
                        f.dequantize(seg, at, bs, q, row + i);
                        if (codes != null) cand[r] = codes.candidates(f, out, (int) at);
                    }
                    if (codes != null) {
                        int best = nearest(cand[r], bs, e, wd[row + i]);
                        codes.set(out, (int) at, e, best);
                        q[row + i] = cand[r][best * bs + e];
                        if (e == bs - 1) verify(f, seg, at, q, row + start, check);
                    }
                }
                double d = u[i * cols + i];
                for (int r = 0; r < n; r++) {
                    int row = r * cols;
                    double ei = (wd[row + i] - q[row + i]) / d;
                    err[r * batch + i - i1] = ei;
                    int ui = i * cols;
                    for (int j = i + 1; j < i2; j++) wd[row + j] -= ei * u[ui + j];
                }
            }
            if (i2 == cols) break;
            for (int r = 0; r < n; r++) {
                int row = r * cols;
                for (int k = 0; k < nb; k++) {
                    double e = err[r * batch + k];
                    if (e == 0) continue;
                    int uk = (i1 + k) * cols;
                    for (int j = i2; j < cols; j++) wd[row + j] -= e * u[uk + j];
                }
            }
        }
    }

    /** The pattern whose value for element e is nearest x (the first of equals). */
    private static int nearest(float[] cand, int bs, int e, double x) {
        int best = 0;
        double bestD = Double.POSITIVE_INFINITY;
        for (int p = 0, patterns = cand.length / bs; p < patterns; p++) {
            double d = Math.abs(cand[p * bs + e] - x);
            if (d < bestD) {
                bestD = d;
                best = p;
            }
        }
        return best;
    }

    /** What is stored must decode to exactly the values the error feedback used. */
    private static void verify(WeightFormat f, MemorySegment seg, long at, float[] q, int qOff, float[] check) {
        f.dequantize(seg, at, check.length, check, 0);
        for (int k = 0; k < check.length; k++)
            if (Float.floatToIntBits(check[k]) != Float.floatToIntBits(q[qOff + k]))
                throw new IllegalStateException(f.name() + ": a code changed another element's value; its codes are not independent");
    }

    /** The layer-output error GPTQ minimises: tr((W − Q)·H·(W − Q)ᵀ), for w and q [rows × cols]. */
    public static double outputError(float[] w, float[] q, int rows, int cols, double[] h) {
        double total = 0;
        double[] d = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) d[c] = (double) w[r * cols + c] - q[r * cols + c];
            for (int i = 0; i < cols; i++) {
                double s = 0;
                for (int j = 0; j < cols; j++) s += h[i * cols + j] * d[j];
                total += d[i] * s;
            }
        }
        return total;
    }
}
