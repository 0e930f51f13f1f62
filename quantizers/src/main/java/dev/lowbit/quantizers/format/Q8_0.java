package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.absMax;
import static dev.lowbit.quantizers.format.GgmlQuants.roundfInt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGML_TYPE_Q8_0: blocks of 32 as {f16 d; int8 qs[32]}, d = amax/127, q = roundf(x/d). Encoder =
 * quantize_row_q8_0_ref, decoder = dequantize_row_q8_0 (ggml-quants.c).
 */
final class Q8_0 implements WeightFormat {
    public String name() { return "Q8_0"; }
    public int ggmlType() { return 8; }
    public int blockSize() { return 32; }
    public int blockBytes() { return 34; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int x = srcOff + 32 * b, y = dstOff + 34 * b;
            float amax = absMax(src, x, 32);
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(dst, y, d);
            for (int j = 0; j < 32; ++j) dst[y + 2 + j] = (byte) roundfInt(src[x + j] * id);
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            int y = dstOff + 32 * b;
            float d = f16(src, p);
            for (int j = 0; j < 32; ++j) dst[y + j] = src.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
        }
    }
}
