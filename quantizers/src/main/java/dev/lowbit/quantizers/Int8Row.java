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
            float[] v = new float[cols], h = new float[cols];
            QuantError.Acc local = new QuantError.Acc();
            for (int r = lo; r < hi; r++) {
                src.read((long) r * cols, v);
                Blocks.absmax(v, name, (long) r * cols);
                float m = 0;
                for (int c = 0; c < cols; c++) {
                    h[c] = Float.float16ToFloat(Float.floatToFloat16(v[c]));
                    if (Float.isInfinite(h[c]))
                        throw new IllegalArgumentException("tensor '" + name + "': value " + v[c] + " at element " + ((long) r * cols + c) + " overflows float16, which LLM.int8 quantizes from");
                    m = Math.max(m, Math.abs(h[c]));
                }
                scb[r] = m;
                float scale = 127f / m;
                for (int c = 0; c < cols; c++) {
                    int code = m == 0 ? 0 : (int) Math.rint(h[c] * scale);
                    q[r * cols + c] = (byte) code;
                    local.add(v[c], code * m / 127f);
                }
            }
            err.merge(local);
        });
        return new Int8Row(src.shape(), q, scb, err.result());
    }

    public float dequantize(long i) {
        int cols = q.length / scb.length;
        return q[(int) i] * scb[(int) (i / cols)] / 127f;
    }
}
