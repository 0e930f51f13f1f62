package dev.lowbit.validate.model;

import dev.lowbit.kernels.VectorOps;
import java.util.Arrays;

/**
 * Causal self-attention of the query heads of one key/value head over one sequence.
 *
 * <p>Many query rows (a prompt): per tile of {@link #QUERY_TILE} query rows, scores = Q·Kᵀ against the keys visible to
 * the tile (the masked upper triangle is computed only inside the diagonal tile), a softmax per row over its visible
 * keys, then P·V, both products on the engine's panel kernel. Keys and values are laid out as panels once per key/value
 * head and shared by every query head of its group and every tile. Memory is O(QUERY_TILE · n + n · headDim) per head,
 * never O(n²).
 *
 * <p>A few query rows (decoding after a KV cache): each score is a dot product with a key and the output a sum of
 * value rows; laying the whole cache out as panels for one row would cost as much as the attention itself.
 *
 * <p>With a window w &gt; 0 (Mistral's sliding_window), the query at position i sees keys i − w + 1 .. i only.
 */
final class CausalAttention {
    /**
     * Query rows per tile: the score tile is QUERY_TILE × (keys up to the tile's last row). A multiple of the panel
     * kernel's six rows, so that only a sequence's last tile has a partial group of rows.
     */
    static final int QUERY_TILE = 60;
    /** Up to this many query rows the direct (panel-free) path runs. */
    static final int DIRECT_ROWS = 8;

    private final VectorOps ops;
    private final int hd, width, total, window;
    private final float scale;
    private final float[] keys, values;
    private final int kvOff, kvStride;
    private float[] keyPanels, valuePanels;

    /**
     * Keys and values of one head: key j (position j, j < total) at keys[kvOff + j·kvStride, +hd), its value at the
     * same offset of values; window: the keys a query sees, itself included (0: all before it).
     */
    CausalAttention(VectorOps ops, int headDim, float[] keys, float[] values, int kvOff, int kvStride, int total, int window) {
        this.ops = ops;
        this.window = window;
        this.hd = headDim;
        this.width = ops.panelRows();
        this.total = total;
        this.scale = (float) (1 / Math.sqrt(headDim));
        this.keys = keys;
        this.values = values;
        this.kvOff = kvOff;
        this.kvStride = kvStride;
    }

    /**
     * One query head: n query rows at positions total-n .. total-1, row i at q[qOff + i·stride, +hd), written to
     * out at the same offsets; slope is the head's ALiBi slope, or 0 for none.
     */
    void head(float[] q, float[] out, int qOff, int stride, int n, float slope) {
        if (n <= DIRECT_ROWS) direct(q, out, qOff, stride, n, slope);
        else tiled(q, out, qOff, stride, n, slope);
    }

    private void direct(float[] q, float[] out, int qOff, int stride, int n, float slope) {
        float[] scores = new float[total];
        for (int i = 0; i < n; i++) {
            int len = total - n + i + 1, lo = first(len), qi = qOff + i * stride;
            for (int j = lo; j < len; j++) scores[j] = ops.dot(q, qi, keys, kvOff + j * kvStride, hd) * scale;
            weigh(scores, lo, len - lo, slope);
            ops.weightedSum(scores, lo, len - lo, values, kvOff + lo * kvStride, kvStride, out, qi, hd);
        }
    }

    /** The first key visible to the query that sees keys [0, len) without a window. */
    private int first(int len) {
        return window > 0 ? Math.max(0, len - window) : 0;
    }

    private void tiled(float[] q, float[] out, int qOff, int stride, int n, float slope) {
        if (keyPanels == null) layOut();
        int p0 = total - n, tile = Math.min(QUERY_TILE, n);
        float[] tileQ = new float[tile * hd], scores = new float[tile * total];
        for (int i0 = 0; i0 < n; i0 += QUERY_TILE) {
            int tq = Math.min(QUERY_TILE, n - i0), visible = p0 + i0 + tq;
            for (int i = 0; i < tq; i++) System.arraycopy(q, qOff + (i0 + i) * stride, tileQ, i * hd, hd);
            for (int r0 = 0; r0 < visible; r0 += width)
                ops.matmulPanel(tileQ, 0, tq, hd, keyPanels, r0 * hd, Math.min(width, visible - r0), scores, r0, visible);
            for (int i = 0; i < tq; i++) {
                int row = i * visible, len = p0 + i0 + i + 1, lo = first(len);
                for (int j = lo; j < len; j++) scores[row + j] *= scale;
                weigh(scores, row + lo, len - lo, slope);
                Arrays.fill(scores, row, row + lo, 0f); // masked keys weigh nothing in P·V
                Arrays.fill(scores, row + len, row + visible, 0f);
            }
            for (int c0 = 0; c0 < hd; c0 += width)
                ops.matmulPanel(scores, 0, tq, visible, valuePanels, c0 * total, Math.min(width, hd - c0), out,
                        qOff + i0 * stride + c0, stride);
        }
    }

    /** ALiBi bias and softmax of one row of scores over its len visible keys. */
    private void weigh(float[] scores, int row, int len, float slope) {
        if (slope != 0) ops.alibi(scores, row, len, slope);
        ops.softmax(scores, row, len);
    }

    /**
     * Keys as k-major panels of `width` keys ([hd × width] each, keys [r0, r0+width) at offset r0·hd), values as
     * slabs of `width` columns ([total × width] each, columns [c0, c0+width) at offset c0·total); absent entries are 0.
     */
    private void layOut() {
        keyPanels = new float[(total + width - 1) / width * width * hd];
        for (int j = 0; j < total; j++) {
            int dst = (j / width) * width * hd + j % width, src = kvOff + j * kvStride;
            for (int k = 0; k < hd; k++) keyPanels[dst + k * width] = keys[src + k];
        }
        int slabs = (hd + width - 1) / width;
        valuePanels = new float[slabs * total * width];
        for (int s = 0; s < slabs; s++) {
            int cols = Math.min(width, hd - s * width);
            for (int j = 0; j < total; j++)
                System.arraycopy(values, kvOff + j * kvStride + s * width, valuePanels, (s * total + j) * width, cols);
        }
    }
}
