package dev.lowbit.quantizers.format;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.FloatBits;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** GGML_TYPE_F16: IEEE half, round to nearest even (ggml's GGML_FP32_TO_FP16 and numpy's astype(float16)). */
final class F16 implements WeightFormat {
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public String name() { return "F16"; }
    public int ggmlType() { return 1; }
    public int blockSize() { return 1; }
    public int blockBytes() { return 2; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        MemorySegment d = MemorySegment.ofArray(dst);
        for (int i = 0; i < n; i++) d.set(LE, dstOff + 2L * i, FloatBits.floatToF16(src[srcOff + i]));
    }

    public boolean copies(DType dtype) {
        return dtype == DType.F16;
    }

    /** A NaN's bytes as stored may differ from the quiet NaN the encoder writes. */
    public boolean storedAsEncoded(MemorySegment src, long off, int n) {
        return !FloatBits.anyMagnitudeAbove(src, off, n, 0x7c00);
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(LE, off + 2L * i));
    }
}
