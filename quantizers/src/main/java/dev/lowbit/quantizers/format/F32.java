package dev.lowbit.quantizers.format;

import dev.lowbit.formats.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** GGML_TYPE_F32: little-endian float32, one element a block. */
final class F32 implements WeightFormat {
    static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public String name() { return "F32"; }
    public int ggmlType() { return 0; }
    public int blockSize() { return 1; }
    public int blockBytes() { return 4; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        MemorySegment.copy(src, srcOff, MemorySegment.ofArray(dst), LE, dstOff, n);
    }

    public boolean copies(DType dtype) {
        return dtype == DType.F32;
    }

    /** The encoder writes a float's bits as they are, NaNs too. */
    public boolean storedAsEncoded(MemorySegment src, long off, int n) {
        return true;
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        MemorySegment.copy(src, LE, off, dst, dstOff, n);
    }
}
