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
 * by importance) at the moment the sweep reaches its first column, from that block's current, error-updated weights;
 * the block's codes are then fixed, and its columns are walked one by one, each one's error (w − q) / U_qq propagating
 * to every later column, inside the block too. This is exact for any format (what is stored is exactly the
 * encoding whose values the error feedback used, with nothing format-specific) at the price of no feedback between
 * columns of one block before they are coded: a per-format "nearest code with fixed block parameters" would add it,
 * but re-encoding the whole block per column would change the block parameters under columns already fixed. The
 * sequential per-column update with fixed codes equals the joint optimal compensation for the whole block (OBS).
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
        float[] block = new float[bs], q = new float[n * cols];
        MemorySegment seg = MemorySegment.ofArray(out);
        double[] err = new double[n * batch];
        for (int i1 = 0; i1 < cols; i1 += batch) {
            int i2 = Math.min(cols, i1 + batch), nb = i2 - i1;
            for (int i = i1; i < i2; i++) {
                if (i % bs == 0) {
                    for (int r = 0; r < n; r++) {
                        for (int k = 0; k < bs; k++) block[k] = (float) wd[r * cols + i + k];
                        long at = (long) (lo + r) * rowBytes + (long) i / bs * f.blockBytes();
                        enc.encode(block, 0, bs, out, (int) at, i);
                        f.dequantize(seg, at, bs, q, r * cols + i);
                    }
                }
                double d = u[i * cols + i];
                for (int r = 0; r < n; r++) {
                    int row = r * cols;
                    double e = (wd[row + i] - q[row + i]) / d;
                    err[r * batch + i - i1] = e;
                    int ui = i * cols;
                    for (int j = i + 1; j < i2; j++) wd[row + j] -= e * u[ui + j];
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
