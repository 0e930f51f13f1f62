package dev.lowbit.quantizers;

import java.util.Arrays;

/**
 * torch's float32 sum and mean on the CPU, in torch's order of additions, so a mean bitsandbytes stores (the
 * double-quant offset, {@code absmax.mean()}) is reproduced to the bit. The order is aten/src/ATen/native/cpu/
 * SumKernel.cpp's cascade sum (vectorized_inner_sum → row_sum → multi_row_sum) with torch's AVX2 vector width of 8
 * floats, on one thread: torch splits a reduction over threads only from 32,768 elements (its GRAIN_SIZE) on, which
 * no absmax vector of a weight below 2M elements reaches; above that its result depends on the thread count.
 */
final class TorchSum {
    private TorchSum() {}

    static final int LANES = 8;

    /** torch.mean of a float32 tensor on the CPU: the cascade sum, then one float division by the count. */
    static float mean(float[] x) {
        return sum(x) / (float) x.length;
    }

    static float sum(float[] x) {
        int n = x.length;
        if (n < LANES) return rowSum(x, 0, 1, n, 1)[0];
        int vecs = n / LANES;
        float[] acc = rowSum(x, 0, LANES, vecs, LANES);
        float total = 0;
        for (int k = vecs * LANES; k < n; k++) total += x[k];
        for (int lane = 0; lane < LANES; lane++) total += acc[lane];
        return total;
    }

    /**
     * row_sum over `size` elements of `width` lanes each (element i at x[off + i·stride ..]): four interleaved
     * partial sums by multi_row_sum, the remainder added to the first, then the partials folded in order.
     */
    private static float[] rowSum(float[] x, int off, int stride, int size, int width) {
        int ilp = 4, sizeIlp = size / ilp;
        float[][] partial = multiRowSum(x, off, stride * ilp, stride, sizeIlp, ilp, width);
        for (int i = sizeIlp * ilp; i < size; i++) add(partial[0], x, off + i * stride, width);
        for (int k = 1; k < ilp; k++) for (int l = 0; l < width; l++) partial[0][l] += partial[k][l];
        return partial[0];
    }

    /** multi_row_sum: nrows sums at once, in a cascade of 4 levels of 2^levelPower additions each. */
    private static float[][] multiRowSum(float[] x, int off, int rowStride, int colStride, int size, int nrows, int width) {
        int levels = 4;
        int levelPower = Math.max(4, ceilLog2(size) / levels), levelStep = 1 << levelPower, levelMask = levelStep - 1;
        float[][][] acc = new float[levels][nrows][width];
        int i = 0;
        while (i + levelStep <= size) {
            for (int j = 0; j < levelStep; j++, i++)
                for (int k = 0; k < nrows; k++) add(acc[0][k], x, off + i * rowStride + k * colStride, width);
            for (int j = 1; j < levels; j++) {
                for (int k = 0; k < nrows; k++) {
                    for (int l = 0; l < width; l++) acc[j][k][l] += acc[j - 1][k][l];
                    Arrays.fill(acc[j - 1][k], 0f);
                }
                if ((i & (levelMask << (j * levelPower))) != 0) break;
            }
        }
        for (; i < size; i++)
            for (int k = 0; k < nrows; k++) add(acc[0][k], x, off + i * rowStride + k * colStride, width);
        for (int j = 1; j < levels; j++)
            for (int k = 0; k < nrows; k++) for (int l = 0; l < width; l++) acc[0][k][l] += acc[j][k][l];
        return acc[0];
    }

    private static void add(float[] acc, float[] x, int at, int width) {
        for (int l = 0; l < width; l++) acc[l] += x[at + l];
    }

    /** c10's CeilLog2: 1 for x ≤ 2, else the bit width of x − 1. */
    static int ceilLog2(int x) {
        return x <= 2 ? 1 : 32 - Integer.numberOfLeadingZeros(x - 1);
    }
}
