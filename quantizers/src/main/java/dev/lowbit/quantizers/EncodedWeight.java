package dev.lowbit.quantizers;

import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** One weight encoded by a {@link WeightEncoder} (GPTQ), in the result types the writers take. */
final class EncodedWeight {
    private EncodedWeight() {}

    /**
     * The lowbit layout: the encoder's bytes as they are. hf-bnb nf4/fp4: the encoder works on lowbit's block form of the
     * same math (absmax per block, code × absmax), and its values are re-packed by bitsandbytes' quantizer, which gives
     * back exactly those codes and absmaxes (checked). null when the encoder does not take this weight (or for hf-bnb
     * int8, whose row format it cannot take).
     */
    static Object of(WeightEncoder enc, Recipe r, String name, FloatSource src) {
        int rows = Math.toIntExact(src.shape()[0]), cols = Math.toIntExact(src.numel() / Math.max(1, rows));
        boolean bnb = r.layout() == Layout.HF_BNB;
        if (bnb && r.scheme() == Scheme.INT8) return null;
        WeightFormat f = bnb ? WeightFormats.lowbit(r.scheme().cliName(), r.block(), cols) : r.format(src.shape());
        if (cols % f.blockSize() != 0) return null;
        float[] w = new float[Math.multiplyExact(rows, cols)];
        src.read(0, w);
        for (int i = 0; i < w.length; i++) Blocks.checkFinite(w[i], name, i);
        byte[] data = enc.encode(name, w, rows, cols, f);
        if (data == null) return null;
        float[] q = new float[w.length];
        f.dequantize(MemorySegment.ofArray(data), 0, w.length, q, 0);
        if (!bnb) {
            QuantError.Acc err = new QuantError.Acc();
            for (int i = 0; i < w.length; i++) err.add(w[i], q[i]);
            return new BlockQuantizer(f, src.shape(), data, err.result());
        }
        // lowbit's nf4/fp4 block = f32 absmax, then the codes two per byte, first in the high nibble: bitsandbytes'
        // packing of the same block, so codes and absmax move over as they are (rows are whole blocks)
        int bs = f.blockSize(), blocks = w.length / bs;
        byte[] codes = new byte[w.length / 2];
        float[] absmax = new float[blocks];
        MemorySegment seg = MemorySegment.ofArray(data);
        for (int b = 0; b < blocks; b++) {
            absmax[b] = seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (long) b * f.blockBytes());
            System.arraycopy(data, b * f.blockBytes() + 4, codes, b * bs / 2, bs / 2);
        }
        Codebook4 cb = r.scheme() == Scheme.NF4 ? Codebook4.NF4 : Codebook4.FP4;
        FourBit packed = new FourBit(cb, r.block(), src.shape(), codes, absmax, r.doubleQuant() ? DoubleQuant.of(absmax) : null, null);
        float[] back = packed.dequantizeAll(); // with double quant: through the quantized absmaxes
        QuantError.Acc stored = new QuantError.Acc();
        for (int i = 0; i < q.length; i++) {
            if (!r.doubleQuant() && Float.floatToIntBits(back[i]) != Float.floatToIntBits(q[i]))
                throw new IllegalStateException("tensor '" + name + "': bitsandbytes' packing changed an encoded value at element " + i);
            stored.add(w[i], back[i]);
        }
        return new FourBit(packed.codebook(), packed.block(), packed.shape(), packed.packed(), packed.absmax(), packed.nested(), stored.result());
    }
}
