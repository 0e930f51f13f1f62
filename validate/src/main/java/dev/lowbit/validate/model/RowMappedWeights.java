package dev.lowbit.validate.model;

import dev.lowbit.kernels.Weights;

/**
 * A view of another matrix with its rows reordered: row r of this view is row map[r] of the stored one. Runs of
 * consecutive rows are decoded in one call; nothing is copied but the decoded tile.
 */
record RowMappedWeights(Weights stored, int[] map) implements Weights {
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    RowMappedWeights {
        for (int r : map) if (r < 0 || r >= stored.rows()) throw new IllegalArgumentException("row " + r + " outside " + stored.rows());
    }

    @Override
    public int rows() {
        return map.length;
    }

    @Override
    public int cols() {
        return stored.cols();
    }

    @Override
    public void decodeRows(int row, int n, float[] dst) {
        int cols = stored.cols();
        for (int i = 0; i < n; ) {
            int start = map[row + i], len = 1;
            while (i + len < n && map[row + i + len] == start + len) len++;
            if (i == 0 && len == n) {
                stored.decodeRows(start, n, dst);
                return;
            }
            float[] tmp = SCRATCH.get();
            if (tmp == null || tmp.length < len * cols) SCRATCH.set(tmp = new float[len * cols]);
            stored.decodeRows(start, len, tmp);
            System.arraycopy(tmp, 0, dst, i * cols, len * cols);
            i += len;
        }
    }

    @Override
    public String format() {
        return stored.format();
    }

    /** v reordered the same way (a bias). */
    float[] apply(float[] v) {
        float[] out = new float[map.length];
        for (int r = 0; r < map.length; r++) out[r] = v[map[r]];
        return out;
    }

    /**
     * BLOOM's fused query_key_value: transformers stores per head (q, k, v) rows; llama.cpp's converter reorders them to
     * [all q | all k | all v]. Maps the transformers row order onto the GGUF rows.
     */
    static int[] bloomQkv(int heads, int headDim) {
        int d = heads * headDim;
        int[] map = new int[3 * d];
        for (int h = 0; h < heads; h++)
            for (int p = 0; p < 3; p++)
                for (int e = 0; e < headDim; e++) map[h * 3 * headDim + p * headDim + e] = p * d + h * headDim + e;
        return map;
    }
}
