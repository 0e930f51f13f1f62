package dev.lowbit.quantizers.format;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.FloatBits;
import java.lang.foreign.MemorySegment;

/** GGML_TYPE_BF16: the upper 16 bits of a float32, round to nearest even (ggml_compute_fp32_to_bf16). */
final class Bf16 implements WeightFormat {
    public String name() { return "BF16"; }
    public int ggmlType() { return 30; }
    public int blockSize() { return 1; }
    public int blockBytes() { return 2; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        MemorySegment d = MemorySegment.ofArray(dst);
        for (int i = 0; i < n; i++) d.set(F16.LE, dstOff + 2L * i, FloatBits.floatToBf16(src[srcOff + i]));
    }

    public boolean copies(DType dtype) {
        return dtype == DType.BF16;
    }

    /** A NaN's bytes as stored may differ from the quiet NaN the encoder writes. */
    public boolean storedAsEncoded(MemorySegment src, long off, int n) {
        return !FloatBits.anyMagnitudeAbove(src, off, n, 0x7f80);
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = FloatBits.bf16ToFloat(src.get(F16.LE, off + 2L * i));
    }
}
