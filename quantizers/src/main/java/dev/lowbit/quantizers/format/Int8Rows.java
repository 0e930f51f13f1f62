package dev.lowbit.quantizers.format;

import dev.lowbit.quantizers.Int8Row;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * LLM.int8 rows in lowbit's layout: one block per row, float32 absmax (SCB) then the row's int8 codes, by
 * bitsandbytes' rule ({@link Int8Row#quantizeRow}).
 */
final class Int8Rows implements WeightFormat {
    private final int cols;

    Int8Rows(int cols) {
        this.cols = cols;
    }

    public String name() { return "int8"; }
    public int ggmlType() { return -1; }
    public int blockSize() { return cols; }
    public int blockBytes() { return 4 + cols; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        MemorySegment out = MemorySegment.ofArray(dst);
        for (int r = 0; r < n / cols; r++) {
            int at = dstOff + r * blockBytes();
            out.set(FourBitBlocks.F32, at, Int8Row.quantizeRow(src, srcOff + r * cols, cols, dst, at + 4));
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int r = 0; r < n / cols; r++) {
            long at = off + (long) r * blockBytes();
            float scb = src.get(FourBitBlocks.F32, at);
            for (int c = 0; c < cols; c++) dst[dstOff + r * cols + c] = src.get(ValueLayout.JAVA_BYTE, at + 4 + c) * scb / 127f;
        }
    }
}
