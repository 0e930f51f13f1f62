package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.samples.Samples;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Round-trip error of every scheme on every 2-D weight of every sample, against bounds from each scheme's resolution;
 * prints the mean relative Frobenius error and SNR per scheme. Dequantization is checked independently of the
 * quantizer's own error accounting.
 */
class SampleErrorTest {
    static Stream<String> models() {
        return Stream.of("embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama");
    }

    static Path dir(String m) {
        if (m.equals("embedded")) return Samples.tinyLlama();
        var p = Samples.shared(m);
        assumeTrue(p.isPresent(), Samples.SHARED_MISSING);
        return p.get();
    }

    record Bound(String scheme, double maxRel) {}

    static final Bound[] BOUNDS = {new Bound("int8", 0.012), new Bound("int8-block", 0.012), new Bound("int4", 0.20),
            new Bound("int4-asym", 0.15), new Bound("nf4", 0.13), new Bound("nf4+dq", 0.13), new Bound("fp4", 0.20)};

    @ParameterizedTest
    @MethodSource("models")
    void roundTripErrorsAreBoundedAndNf4BeatsInt4(String model) {
        try (Checkpoint ck = Checkpoint.open(dir(model))) {
            StringBuilder table = new StringBuilder(model + ": mean relative error / SNR dB over 2-D weights\n");
            double nf4 = 0, int4 = 0;
            for (Bound b : BOUNDS) {
                double rel = 0, snr = 0;
                int count = 0;
                for (Tensor t : ck.tensors()) {
                    if (t.rank() != 2 || Recipe.isEmbedding(t.name()) || t.name().startsWith("lm_head")) continue;
                    QuantError e = quantize(b.scheme, FloatSource.of(t), t);
                    assertTrue(e.relFrobenius() < b.maxRel, model + " " + t.name() + " " + b.scheme + " rel " + e.relFrobenius());
                    rel += e.relFrobenius();
                    snr += e.snrDb();
                    count++;
                }
                rel /= count;
                if (b.scheme.equals("nf4")) nf4 = rel;
                if (b.scheme.equals("int4")) int4 = rel;
                table.append(String.format(Locale.ROOT, "  %-10s rel %.5f  snr %.2f dB  (%d tensors)%n", b.scheme, rel, snr / count, count));
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
