package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.samples.Samples;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Round-trip error of every scheme on every 2-D weight of every sample: the largest error of each tensor against the
 * bound each format's resolution allows, derived here from the tensor's own values (half a grid step per row, block or
 * group, plus the rounding of an f16 scale, 2^−11 relative; 4-bit codebooks: half the widest gap of the published table;
 * double quantization: half the widest gap of the signed dynamic map times the nested absmax). Prints the mean relative
 * Frobenius error and SNR per scheme. Dequantization is checked independently of the quantizer's own error accounting.
 */
class SampleErrorTest {
    static Stream<String> models() {
        return Stream.of("embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama");
    }

    static Path dir(String m) {
        if (m.equals("embedded")) return Samples.tinyLlama();
        return Samples.requireShared(m);
    }

    static final String[] SCHEMES = {"int8", "int8-block", "int4", "int4-asym", "nf4", "nf4+dq", "fp4"};
    static final double F16_REL = 0x1p-11;

    /** The resolution bound on max |x − dequantize(quantize(x))| for values x [rows × cols] (stored orientation). */
    static double bound(String scheme, float[] x, long[] shape) {
        int rows = (int) shape[0], cols = x.length / rows;
        double worst = 0, maxAbs = 0;
        for (float v : x) maxAbs = Math.max(maxAbs, Math.abs(v));
        switch (scheme) {
            case "int8" -> { // rows: absmax/127 per step, round to nearest, after bitsandbytes' cast to float16 (half an ulp: 2^-11 relative)
                for (int r = 0; r < rows; r++) {
                    double a = 0;
                    for (int c = 0; c < cols; c++) a = Math.max(a, Math.abs(x[r * cols + c]));
                    worst = Math.max(worst, a / 254 * (1 + 0x1p-11) + a * 0x1p-11);
                }
            }
            case "int4", "int4-asym" -> { // groups of 64 along rows, f16 scale
                for (int s = 0; s < x.length; s += 64) {
                    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, a = 0;
                    for (int i = s; i < s + 64; i++) {
                        lo = Math.min(lo, x[i]);
                        hi = Math.max(hi, x[i]);
                        a = Math.max(a, Math.abs(x[i]));
                    }
                    worst = Math.max(worst, scheme.equals("int4") ? a / 7 * (0.5 + 8 * F16_REL) : (hi - lo) / 15 * (1 + 16 * F16_REL));
                }
            }
            default -> { // blocks over the flattened tensor: Q8_0 (32, f16 d = absmax/127), NF4/FP4 (64, f32 absmax)
                int b = scheme.equals("int8-block") ? 32 : 64;
                double half = scheme.equals("int8-block") ? 0 : scheme.equals("fp4") ? (12 - 8) / 12.0 / 2 : (1 - 0.6961928009986877) / 2;
                for (int s = 0; s < x.length; s += b) {
                    double a = 0;
                    for (int i = s; i < Math.min(x.length, s + b); i++) a = Math.max(a, Math.abs(x[i]));
                    worst = Math.max(worst, scheme.equals("int8-block") ? a / 127 * (0.5 + 127 * F16_REL) : half * a);
                }
                if (scheme.equals("nf4+dq")) worst += 0.9 / 64 / 2 * maxAbs;
            }
        }
        return worst * (1 + 1e-6) + 1e-7 * maxAbs;
    }

    @ParameterizedTest
    @MethodSource("models")
    void roundTripErrorsAreBoundedAndNf4BeatsInt4(String model) {
        try (Checkpoint ck = Checkpoint.open(dir(model))) {
            StringBuilder table = new StringBuilder(model + ": mean relative error / SNR dB over 2-D weights\n");
            double nf4 = 0, int4 = 0;
            for (String scheme : SCHEMES) {
                double rel = 0, snr = 0;
                int count = 0;
                for (Tensor t : ck.tensors()) {
                    if (t.rank() != 2 || Recipe.isEmbedding(t.name()) || t.name().startsWith("lm_head")) continue;
                    FloatSource src = FloatSource.of(t);
                    QuantError e = quantize(scheme, src, t);
                    float[] x = new float[(int) src.numel()];
                    src.read(0, x);
                    double bound = bound(scheme, x, t.shape());
                    assertTrue(e.maxAbs() <= bound, model + " " + t.name() + " " + scheme + ": max |error| " + e.maxAbs() + " > resolution bound " + bound);
                    assertTrue(e.maxAbs() > 0.25 * bound / (scheme.equals("nf4+dq") ? 2 : 1), model + " " + t.name() + " " + scheme
                            + ": the bound is not vacuous (max error " + e.maxAbs() + " of " + bound + ")");
                    rel += e.relFrobenius();
                    snr += e.snrDb();
                    count++;
                }
                rel /= count;
                if (scheme.equals("nf4")) nf4 = rel;
                if (scheme.equals("int4")) int4 = rel;
                table.append(String.format(Locale.ROOT, "  %-10s rel %.5f  snr %.2f dB  (%d tensors)%n", scheme, rel, snr / count, count));
            }
            System.out.print(table);
            assertTrue(nf4 <= int4, "NF4 (" + nf4 + ") should not be worse than INT4 g64 (" + int4 + ")");
        }
    }

    /** Quantizes, then measures the error from the dequantized values independently of the quantizer's own tally. */
    static QuantError quantize(String scheme, FloatSource src, Tensor t) {
        QuantError.Acc acc = new QuantError.Acc();
        float[] x = new float[(int) src.numel()];
        src.read(0, x);
        switch (scheme) {
            case "int8" -> {
                Int8Row q = Int8Row.quantize(src, t.name());
                for (int i = 0; i < x.length; i++) acc.add(x[i], q.dequantize(i));
            }
            case "int8-block", "int4", "int4-asym" -> {
                var f = dev.lowbit.quantizers.format.WeightFormats.lowbit(scheme, 64, (int) src.shape()[1]);
                BlockQuantizer q = BlockQuantizer.quantize(src, f, t.name());
                float[] y = new float[x.length];
                f.dequantize(java.lang.foreign.MemorySegment.ofArray(q.data()), 0, x.length, y, 0);
                for (int i = 0; i < x.length; i++) acc.add(x[i], y[i]);
            }
            default -> {
                float[] y = FourBit.quantize(src, scheme.equals("fp4") ? Codebook4.FP4 : Codebook4.NF4, 64, scheme.equals("nf4+dq"), t.name()).dequantizeAll();
                for (int i = 0; i < x.length; i++) acc.add(x[i], y[i]);
            }
        }
        return acc.result();
    }
}
