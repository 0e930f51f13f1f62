package dev.lowbit.quantizers;

/**
 * LLM.int8 row-wise layout as bitsandbytes writes it (Int8Params._quantize → int8_vectorwise_quant): the weight is
 * first cast to float16, SCB = the row's absmax of those float16 values (float32), q = round-half-even(w16 · (127 /
 * SCB)) — a multiply by the float32 reciprocal, not a division. An all-zero row has SCB 0 and codes 0. A weight beyond
 * float16's range (|w| > 65504) is refused: bitsandbytes would store infinities.
 */
public record Int8Row(long[] shape, byte[] q, float[] scb, QuantError error) {

    public static Int8Row quantize(FloatSource src, String name) {
        int rows = Math.toIntExact(src.shape()[0]), cols = Math.toIntExact(src.numel() / Math.max(1, rows));
        byte[] q = new byte[rows * cols];
        float[] scb = new float[rows];
        QuantError.Acc err = new QuantError.Acc();
        Blocks.parallel(rows, 64, (lo, hi) -> {
            float[] v = new float[cols];
            QuantError.Acc local = new QuantError.Acc();
            for (int r = lo; r < hi; r++) {
                src.read((long) r * cols, v);
                Blocks.absmax(v, name, (long) r * cols);
                try {
                    scb[r] = quantizeRow(v, 0, cols, q, r * cols);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("tensor '" + name + "', row " + r + ": " + e.getMessage());
                }
                for (int c = 0; c < cols; c++) local.add(v[c], q[r * cols + c] * scb[r] / 127f);
            }
            err.merge(local);
        });
        return new Int8Row(src.shape(), q, scb, err.result());
    }

    /**
     * One row by bitsandbytes' rule: cast to float16, SCB = max |w16| (float32), q = round-half-even(w16 · (127 /
     * SCB)). Writes n codes to q[qOff ..] and returns SCB; an all-zero row is SCB 0 with codes 0.
     */
    public static float quantizeRow(float[] v, int off, int n, byte[] q, int qOff) {
        float m = 0;
        for (int c = 0; c < n; c++) {
            float h = Float.float16ToFloat(Float.floatToFloat16(v[off + c]));
            if (Float.isInfinite(h)) throw new IllegalArgumentException("value " + v[off + c] + " overflows float16, which LLM.int8 quantizes from");
            m = Math.max(m, Math.abs(h));
        }
        float scale = 127f / m;
        for (int c = 0; c < n; c++)
            q[qOff + c] = (byte) (m == 0 ? 0 : (int) Math.rint(Float.float16ToFloat(Float.floatToFloat16(v[off + c])) * scale));
        return m;
    }

    public float dequantize(long i) {
        int cols = q.length / scb.length;
        return q[(int) i] * scb[(int) (i / cols)] / 127f;
    }
}
