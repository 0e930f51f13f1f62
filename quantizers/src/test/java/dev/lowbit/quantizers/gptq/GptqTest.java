package dev.lowbit.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import dev.lowbit.samples.Samples;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GPTQ against a straightforward implementation written here: plain loops, no Cholesky, no lazy batches, the inverse
 * Hessian inverted by Gauss–Jordan and updated explicitly after each column (removing it: H⁻¹ ← H⁻¹ − H⁻¹_{:,q}·H⁻¹_{q,:}
 * / [H⁻¹]_qq), each column's error w_q − Q_q over [H⁻¹]_qq times H⁻¹_{q,:} subtracted from the later columns (the
 * OBS update). Blocks are coded by the format's own quantizer when the walk reaches their first column.
 */
class GptqTest {

    static WeightFormat format(String name, int cols) {
        WeightFormat f = WeightFormats.named(name);
        return f != null ? f : WeightFormats.lowbit(name, name.startsWith("int4") ? 64 : 32, cols);
    }

    /** H = XᵀX / n for n random rows of correlated inputs (a few strong directions, like activations). */
    static double[] hessian(Random rnd, int n, int cols) {
        double[] mix = new double[cols * cols];
        for (int i = 0; i < mix.length; i++) mix[i] = rnd.nextGaussian() * (i % cols < 4 ? 2 : 0.3);
        double[] h = new double[cols * cols];
        double[] x = new double[cols], z = new double[cols];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < cols; i++) z[i] = rnd.nextGaussian();
            for (int i = 0; i < cols; i++) {
                double s = z[i];
                for (int k = 0; k < 4; k++) s += mix[k * cols + i] * z[k];
                x[i] = s * (1 + (i % 7 == 0 ? 3 : 0));
            }
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < cols; j++) h[i * cols + j] += x[i] * x[j] / n;
        }
        return h;
    }

    static float[] weights(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05 * (i % 13 == 0 ? 4 : 1));
        return w;
    }

    static float[] decode(WeightFormat f, byte[] data, int rows, int cols) {
        float[] q = new float[rows * cols];
        f.dequantize(MemorySegment.ofArray(data), 0, rows * cols, q, 0);
        return q;
    }

    /** The straightforward algorithm, in double, with the same dampening rule (λ = damp · mean diag, dead inputs zeroed). */
    static float[] straightforward(float[] w0, int rows, int cols, double[] h0, WeightFormat f, double damp) {
        int bs = f.blockSize();
        double[][] h = new double[cols][cols];
        double mean = 0;
        boolean[] dead = new boolean[cols];
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) h[i][j] = h0[i * cols + j];
            if (h[i][i] == 0) {
                dead[i] = true;
                h[i][i] = 1;
            }
            mean += h[i][i];
        }
        for (int i = 0; i < cols; i++) h[i][i] += damp * mean / cols;
        double[][] hinv = invert(h);
        double[][] w = new double[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r][c] = dead[c] ? 0 : w0[r * cols + c];
        float[] q = new float[rows * cols];
        byte[][] blockBytes = new byte[rows][f.blockBytes()];
        float[] block = new float[bs];
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) {
                if (c % bs == 0) { // the block's parameters, chosen by the format's encoder from the current weights
                    for (int k = 0; k < bs; k++) block[k] = (float) w[r][c + k];
                    f.quantize(block, 0, bs, blockBytes[r], 0);
                }
                double best = Double.POSITIVE_INFINITY;
                for (double v : grid(f.name(), blockBytes[r], c % bs))
                    if (Math.abs(v - w[r][c]) < Math.abs(best - w[r][c])) best = v;
                q[r * cols + c] = (float) best;
            }
            for (int r = 0; r < rows; r++) {
                double e = (w[r][c] - q[r * cols + c]) / hinv[c][c];
                for (int j = c + 1; j < cols; j++) w[r][j] -= e * hinv[c][j];
            }
            double[][] next = new double[cols][cols];
            for (int i = c + 1; i < cols; i++)
                for (int j = c + 1; j < cols; j++) next[i][j] = hinv[i][j] - hinv[i][c] * hinv[c][j] / hinv[c][c];
            hinv = next;
        }
        return q;
    }

    static final int[] KVALUES_IQ4NL = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** bitsandbytes' NF4 table (functional.py, create_normal_map's published values). */
    static final float[] NF4 = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
            -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f,
            0.33791524737358093f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    static float f16(byte[] b, int off) {
        return Float.float16ToFloat((short) ((b[off] & 0xff) | (b[off + 1] << 8)));
    }

    /** The values element e of a block can take with the block's parameters as stored, from each format's published layout. */
    static double[] grid(String format, byte[] b, int e) {
        double[] g;
        switch (format) {
            case "Q4_0", "int4" -> { // f16 d, codes 0..15 around 8
                g = new double[16];
                for (int c = 0; c < 16; c++) g[c] = (c - 8) * f16(b, 0);
            }
            case "Q8_0" -> {
                g = new double[256];
                for (int c = -128; c < 128; c++) g[c + 128] = c * f16(b, 0);
            }
            case "IQ4_NL" -> {
                g = new double[16];
                for (int c = 0; c < 16; c++) g[c] = f16(b, 0) * KVALUES_IQ4NL[c];
            }
            case "nf4" -> { // lowbit block: f32 absmax first
                float m = ByteBuffer.wrap(b, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                g = new double[16];
                for (int c = 0; c < 16; c++) g[c] = NF4[c] * m;
            }
            case "Q4_K" -> { // d, dmin f16; 12 bytes of 6-bit scales and mins (get_scale_min_k4); sub-block of 32 = e / 32
                int j = e / 32, sc, m;
                int[] q = new int[12];
                for (int i = 0; i < 12; i++) q[i] = b[4 + i] & 0xff;
                if (j < 4) {
                    sc = q[j] & 63;
                    m = q[j + 4] & 63;
                } else {
                    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
                    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
                }
                float d1 = f16(b, 0) * sc, m1 = f16(b, 2) * m;
                g = new double[16];
                for (int c = 0; c < 16; c++) g[c] = d1 * c - m1;
            }
            default -> throw new IllegalArgumentException(format);
        }
        return g;
    }

    /** Gauss–Jordan with partial pivoting. */
    static double[][] invert(double[][] a0) {
        int n = a0.length;
        double[][] a = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a0[i], 0, a[i], 0, n);
            a[i][n + i] = 1;
        }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int i = c + 1; i < n; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
            double[] t = a[p]; a[p] = a[c]; a[c] = t;
            double d = a[c][c];
            for (int j = 0; j < 2 * n; j++) a[c][j] /= d;
            for (int i = 0; i < n; i++) {
                if (i == c || a[i][c] == 0) continue;
                double m = a[i][c];
                for (int j = 0; j < 2 * n; j++) a[i][j] -= m * a[c][j];
            }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(a[i], n, inv[i], 0, n);
        return inv;
    }

    static float[] rtn(WeightFormat f, float[] w, int rows, int cols) {
        byte[] data = new byte[Math.toIntExact(rows * f.rowBytes(cols))];
        for (int r = 0; r < rows; r++) f.quantize(w, r * cols, cols, data, (int) (r * f.rowBytes(cols)));
        return decode(f, data, rows, cols);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0", "IQ4_NL", "nf4", "int4"})
    void smallLayerMatchesStraightforward(String name) {
        int rows = 8, cols = 64;
        Random rnd = new Random(name.hashCode());
        double[] h = hessian(rnd, 256, cols);
        h[5 * cols + 5] = 0; // a dead input: its row and column of XᵀX are zero
        for (int j = 0; j < cols; j++) h[5 * cols + j] = h[j * cols + 5] = 0;
        float[] w = weights(rnd, rows, cols);
        WeightFormat f = format(name, cols);
        // a lazy batch of one block: the trailing update between batches is exercised too
        byte[] got = Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), new Gptq.Options(0.01, f.blockSize()));
        float[] q = decode(f, got, rows, cols);
        float[] want = straightforward(w, rows, cols, h, f, 0.01);
        assertArrayEquals(want, q, 1e-5f, name);
        assertTrue(Gptq.outputError(w, q, rows, cols, h) <= Gptq.outputError(w, rtn(f, w, rows, cols), rows, cols, h), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_K"})
    void superBlocksMatchStraightforward(String name) {
        int rows = 4, cols = 512;
        Random rnd = new Random(name.hashCode());
        double[] h = hessian(rnd, 1024, cols);
        float[] w = weights(rnd, rows, cols);
        WeightFormat f = format(name, cols);
        byte[] got = Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), Gptq.Options.DEFAULT);
        float[] q = decode(f, got, rows, cols);
        assertArrayEquals(straightforward(w, rows, cols, h, f, 0.01), q, 1e-5f, name);
    }

    /**
     * Every other format (no grid written here): on random layers GPTQ's output error tr((W−Q)H(W−Q)ᵀ) is below
     * round-to-nearest's. (What is stored decoding to the values the feedback used is checked inside GPTQ itself.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "nf4", "fp4", "int4", "int4-asym"})
    void beatsRoundToNearestOnRandomLayers(String name) {
        Random rnd = new Random(7 + name.hashCode());
        int rows = 32, cols = 256;
        WeightFormat f = format(name, cols);
        double[] h = hessian(rnd, 1024, cols);
        float[] w = weights(rnd, rows, cols);
        float[] q = decode(f, Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), Gptq.Options.DEFAULT), rows, cols);
        double g = Gptq.outputError(w, q, rows, cols, h), r = Gptq.outputError(w, rtn(f, w, rows, cols), rows, cols, h);
        assertTrue(g < r, name + ": GPTQ " + g + " vs round-to-nearest " + r);
    }

    /**
     * A real layer: tiny-llama's layer-0 q_proj with its real inputs, the RMS-normalised token embeddings of 512 eval
     * tokens times input_layernorm's weight, computed here from the checkpoint (H = XᵀX / n).
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "IQ4_NL", "IQ4_XS", "nf4", "Q4_K", "Q6_K"})
    void beatsRoundToNearestOnARealLayer(String name) throws Exception {
        Path dir = Samples.requireShared("tiny-llama");
        byte[] raw = Files.readAllBytes(dir.resolve("reference/eval_token_ids.i32"));
        ByteBuffer ids = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            var emb = ck.tensor("model.embed_tokens.weight");
            var norm = ck.tensor("model.layers.0.input_layernorm.weight");
            var qp = ck.tensor("model.layers.0.self_attn.q_proj.weight");
            int cols = (int) emb.shape()[1], rows = (int) qp.shape()[0], n = 512;
            float[] g = new float[cols], x = new float[cols], w = new float[rows * cols];
            norm.readFloats(0, g);
            qp.readFloats(0, w);
            double[] h = new double[cols * cols];
            for (int t = 0; t < n; t++) {
                emb.readFloats((long) ids.getInt(4 * t) * cols, x);
                double ss = 0;
                for (float v : x) ss += (double) v * v;
                double inv = 1 / Math.sqrt(ss / cols + 1e-6);
                for (int i = 0; i < cols; i++) x[i] = (float) (x[i] * inv * g[i]);
                for (int i = 0; i < cols; i++)
                    for (int j = 0; j < cols; j++) h[i * cols + j] += (double) x[i] * x[j] / n;
            }
            WeightFormat f = format(name, cols);
            float[] q = decode(f, Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), Gptq.Options.DEFAULT), rows, cols);
            double eg = Gptq.outputError(w, q, rows, cols, h), er = Gptq.outputError(w, rtn(f, w, rows, cols), rows, cols, h);
            System.out.printf("GPTQ %s on tiny-llama q_proj: output error %.4g vs round-to-nearest %.4g (%.2f×)%n", name, eg, er, er / eg);
            assertTrue(eg < er, name + ": GPTQ " + eg + " vs round-to-nearest " + er);
        }
    }

    @Test
    void refusesBadShapesAndIndefiniteHessians() {
        WeightFormat f = format("Q4_0", 64);
        assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(new float[8 * 48], 8, 48, new double[48 * 48], f, BlockEncoder.of(f), Gptq.Options.DEFAULT));
        double[] h = new double[64 * 64];
        for (int i = 0; i < 64; i++) h[i * 64 + i] = 1;
        h[1] = h[64] = 5; // |off-diagonal| > diagonal: indefinite, and 1 % dampening cannot fix it
        var e = assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(new float[8 * 64], 8, 64, h, f, BlockEncoder.of(f), Gptq.Options.DEFAULT));
        assertTrue(e.getMessage().contains("positive definite"), e.getMessage());
    }

    @Test
    void identityHessianIsRoundToNearest() {
        // with H = I (no dampening effect on the order of columns) no column's error reaches another: GPTQ is RTN exactly
        int rows = 4, cols = 64;
        double[] h = new double[cols * cols];
        for (int i = 0; i < cols; i++) h[i * cols + i] = 1;
        float[] w = weights(new Random(3), rows, cols);
        WeightFormat f = format("Q4_0", cols);
        assertArrayEquals(rtn(f, w, rows, cols), decode(f, Gptq.quantize(w, rows, cols, h, f, BlockEncoder.of(f), Gptq.Options.DEFAULT), rows, cols));
        assertEquals(0, Gptq.outputError(w, w, rows, cols, h));
    }
}
