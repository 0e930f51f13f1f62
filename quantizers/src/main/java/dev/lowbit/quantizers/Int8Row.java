package dev.lowbit.quantizers;

/**
 * LLM.int8 row-wise layout: int8 [rows, cols] with one float32 absmax per row (SCB), q = rint(w · 127 / absmax)
 * (round half to even). An all-zero row has SCB 0 and codes 0.
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
                float m = Blocks.absmax(v, name, (long) r * cols);
                scb[r] = m;
                for (int c = 0; c < cols; c++) {
                    int code = m == 0 ? 0 : (int) Math.rint(v[c] * 127f / m);
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
