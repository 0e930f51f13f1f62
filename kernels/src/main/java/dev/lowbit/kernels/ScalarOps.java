package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/** Plain-loop twin of every kernel: the reference the vector kernels are tested against. */
public final class ScalarOps implements VectorOps {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public int panelRows() {
        return 16;
    }

    public void matmulPanel(float[] x, int xOff, int tokens, int cols, float[] panel, int panelOff, int rows, float[] out, int outOff, int outStride) {
        int width = panelRows();
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++) {
                float s = 0;
                for (int k = 0; k < cols; k++) s += x[xOff + t * cols + k] * panel[panelOff + k * width + r];
                out[outOff + t * outStride + r] = s;
            }
    }

    /**
     * Row-major rows [rn × cols] to a k-major panel [cols × width]; missing rows are zero. Sixteen columns at a time:
     * each source row gives one cache line, spread over sixteen panel rows that stay in L1. Walking one column at a
     * time down rn rows instead keeps rn lines alive at a stride of cols floats, which for cols = 2048 all fall in one
     * L1 set: each element then came from L2 (1.0 against 0.4 ns per element, the FFN's down projection).
     */
    public void toPanel(float[] rowsMajor, int rn, int cols, int width, float[] panel) {
        int k16 = cols & ~15;
        for (int k0 = 0; k0 < k16; k0 += 16)
            for (int r = 0; r < rn; r++)
                for (int k = 0, src = r * cols + k0, p = k0 * width + r; k < 16; k++, p += width) panel[p] = rowsMajor[src + k];
        panelRest(rowsMajor, rn, cols, width, panel, rn, k16);
    }

    /**
     * What a blocked copy of rows [0, r) × columns [0, k16) leaves of {@link #toPanel}: rows [r, rn) of those columns,
     * every row of the columns from k16 on, and the zero rows from rn to width.
     */
    static void panelRest(float[] rowsMajor, int rn, int cols, int width, float[] panel, int r, int k16) {
        for (int k = 0, p = 0; k < cols; k++, p += width) {
            for (int i = k < k16 ? r : 0, src = i * cols + k; i < rn; i++, src += cols) panel[p + i] = rowsMajor[src];
            if (rn < width) Arrays.fill(panel, p + rn, p + width, 0f);
        }
    }

    public int dotBytes(byte[] a, int ao, MemorySegment b, long bo, int n) {
        int s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b.get(ValueLayout.JAVA_BYTE, bo + i);
        return s;
    }

    public void dotBytesRows(byte[] a, int ao, MemorySegment b, long bo, long stride, int rows, int n, int[] out) {
        for (int r = 0; r < rows; r++) out[r] = dotBytes(a, ao, b, bo + r * stride, n);
    }

    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    public void weightedSum(float[] w, int wo, int rows, float[] v, int vo, int stride, float[] out, int oo, int n) {
        Arrays.fill(out, oo, oo + n, 0f);
        for (int j = 0; j < rows; j++) axpy(w[wo + j], v, vo + j * stride, out, oo, n);
    }

    public void add(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += x[xo + i];
    }

    public void bf16ToFloat(MemorySegment src, long byteOffset, float[] dst, int n) {
        for (int i = 0; i < n; i++) dst[i] = Float.intBitsToFloat((src.get(SHORT_LE, byteOffset + 2L * i) & 0xffff) << 16);
    }

    public void f16ToFloat(MemorySegment src, long byteOffset, float[] dst, int n) {
        for (int i = 0; i < n; i++) dst[i] = Float.float16ToFloat(src.get(SHORT_LE, byteOffset + 2L * i));
    }

    public void rmsNorm(float[] x, int xo, float[] w, float eps, float[] out, int oo, int n) {
        float ss = 0;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float inv = (float) (1 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[oo + i] = w[i] * (x[xo + i] * inv);
    }

    public void layerNorm(float[] x, int xo, float[] w, float[] b, float eps, float[] out, int oo, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += x[xo + i];
        float mean = sum / n, var = 0;
        for (int i = 0; i < n; i++) var += (x[xo + i] - mean) * (x[xo + i] - mean);
        float inv = (float) (1 / Math.sqrt(var / n + eps));
        for (int i = 0; i < n; i++) out[oo + i] = (x[xo + i] - mean) * inv * w[i] + b[i];
    }

    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        float sum = 0;
        for (int i = 0; i < n; i++) sum += x[off + i] = (float) Math.exp(x[off + i] - max);
        for (int i = 0; i < n; i++) x[off + i] /= sum;
    }

    public void geluTanh(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            x[i] = 0.5f * v * (1f + (float) Math.tanh(0.7978845608028654 * (v + 0.044715f * v * v * v)));
        }
    }

    public void siluMul(float[] gate, float[] up, int off, int n) {
        for (int i = off; i < off + n; i++) gate[i] = gate[i] / (1f + (float) Math.exp(-gate[i])) * up[i];
    }

    public void rope(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        for (int i = 0; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], c = cos[csOff + i], s = sin[csOff + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    public void ropeInterleaved(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        for (int i = 0; i < half; i++) {
            float a = x[off + 2 * i], b = x[off + 2 * i + 1], c = cos[csOff + i], s = sin[csOff + i];
            x[off + 2 * i] = a * c - b * s;
            x[off + 2 * i + 1] = b * c + a * s;
        }
    }

    public void alibi(float[] scores, int off, int n, float slope) {
        for (int j = 0; j < n; j++) scores[off + j] += slope * j;
    }
}
