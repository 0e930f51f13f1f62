package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.quantizers.calib.ImatrixFile;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import dev.lowbit.samples.Samples;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scale search never does worse than absmax on the error it minimises: Σ importance·(x − dequantized)², or Σ (x −
 * dequantized)² without importance. Both encodings are decoded by the format's decoder and the error is summed here;
 * the absmax reference is computed here from the format's documented rule (scale = absmax, codes by the codebook's
 * decision rule; int4: s = absmax/7 or (max − min)/15 in f16, rint). Random blocks (Gaussian, heavy-tailed, with
 * outliers, constant) and the real weights of the embedded tiny-llama with llama-imatrix's importance.
 */
class ScaleSearchTest {
    static final String[] SCHEMES = {"nf4", "fp4", "int4", "int4-asym"};

    /** Σ w·(x − y)² in double. */
    static double err(float[] x, float[] y, float[] w) {
        double e = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            e += (w == null ? 1 : w[i]) * d * d;
        }
        return e;
    }

    /** The absmax encoding's values, straight from the rule. */
    static float[] absmaxValues(String scheme, float[] x, int block) {
        float[] y = new float[x.length];
        for (int b = 0; b < x.length / block; b++) {
            int o = b * block;
            float m = 0, lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < block; i++) {
                m = Math.max(m, Math.abs(x[o + i]));
                lo = Math.min(lo, x[o + i]);
                hi = Math.max(hi, x[o + i]);
            }
            for (int i = 0; i < block; i++) {
                float v = x[o + i];
                y[o + i] = switch (scheme) {
                    case "nf4", "fp4" -> {
                        Codebook4 cb = scheme.equals("nf4") ? Codebook4.NF4 : Codebook4.FP4;
                        yield m == 0 ? 0 : cb.value(cb.code(Math.max(-1f, Math.min(1f, v * (1f / m))))) * m;
                    }
                    default -> {
                        boolean asym = scheme.equals("int4-asym");
                        float s = Float.float16ToFloat(Float.floatToFloat16(asym ? (hi - lo) / 15f : m / 7f));
                        float inv = s == 0 ? 0 : 1f / s;
                        int zero = asym ? (int) Math.max(0, Math.min(15, Math.rint(-lo * inv))) : 8;
                        int q = (int) Math.max(0, Math.min(15, Math.rint(v * inv) + zero));
                        yield (q - zero) * s;
                    }
                };
            }
        }
        return y;
    }

    static float[] searched(String scheme, float[] x, int block, float[] w) {
        WeightFormat f = WeightFormats.lowbit(scheme, block, x.length).withScaleSearch();
        byte[] dst = new byte[Math.toIntExact(f.rowBytes(x.length))];
        f.quantize(x, 0, x.length, dst, 0, w, 0);
        float[] y = new float[x.length];
        f.dequantize(MemorySegment.ofArray(dst), 0, x.length, y, 0);
        return y;
    }

    /** Asserts search ≤ absmax per block; returns {Σ absmax error, Σ searched error}. */
    static double[] check(String scheme, float[] x, int block, float[] w, String what) {
        float[] a = absmaxValues(scheme, x, block), s = searched(scheme, x, block, w);
        double ta = 0, ts = 0;
        for (int b = 0; b < x.length / block; b++) {
            int o = b * block;
            float[] xb = java.util.Arrays.copyOfRange(x, o, o + block), ab = java.util.Arrays.copyOfRange(a, o, o + block),
                    sb = java.util.Arrays.copyOfRange(s, o, o + block), wb = w == null ? null : java.util.Arrays.copyOfRange(w, o, o + block);
            double ea = err(xb, ab, wb), es = err(xb, sb, wb);
            assertTrue(es <= ea * (1 + 1e-12) + 1e-30, scheme + " " + what + " block " + b + ": searched " + es + " > absmax " + ea);
            ta += ea;
            ts += es;
        }
        return new double[] {ta, ts};
    }

    @Test
    void neverWorseOnRandomBlocks() {
        Random r = new Random(13);
        for (String scheme : SCHEMES) {
            double ta = 0, ts = 0;
            for (int trial = 0; trial < 400; trial++) {
                int block = new int[] {16, 32, 64, 128}[trial % 4];
                float[] x = new float[block * 8];
                int kind = trial % 5;
                for (int i = 0; i < x.length; i++) {
                    double g = r.nextGaussian();
                    x[i] = (float) switch (kind) {
                        case 0 -> g;
                        case 1 -> g * g * g; // heavy tails
                        case 2 -> r.nextInt(50) == 0 ? 20 * g : g; // outliers
                        case 3 -> 0.5 + 0.1 * g; // all of one sign
                        default -> i % block < 3 ? 1.0 : 0.0; // mostly zero
                    };
                }
                if (trial % 37 == 0) java.util.Arrays.fill(x, 0, block, 0f); // an all-zero block
                float[] w = null;
                if (trial % 2 == 1) {
                    w = new float[x.length];
                    for (int i = 0; i < w.length; i++) w[i] = (float) Math.exp(2 * r.nextGaussian());
                }
                double[] e = check(scheme, x, block, w, "trial " + trial);
                if (kind == 0) {
                    ta += e[0];
                    ts += e[1];
                }
            }
            assertTrue(ts < 0.97 * ta, scheme + ": the search should gain on Gaussian blocks: " + ts + " vs absmax " + ta);
        }
    }

    @Test
    void neverWorseOnTinyLlamaWeightsWithItsImportance() throws Exception {
        Imatrix m = ImatrixFile.read(Path.of(getClass().getResource("/calib/tiny-llama-imatrix.gguf").toURI()));
        try (Checkpoint ck = Checkpoint.open(Samples.tinyLlama())) {
            for (String name : new String[] {"model.layers.0.self_attn.q_proj.weight", "model.layers.2.mlp.down_proj.weight"}) {
                Tensor t = ck.tensor(name);
                int cols = Math.toIntExact(t.shape()[1]);
                float[] imp = m.importance(name);
                assertEquals(cols, imp.length);
                float[] row = new float[cols];
                for (int rIdx = 0; rIdx < 16; rIdx++) {
                    t.readFloats((long) rIdx * cols, row);
                    for (String scheme : SCHEMES) {
                        check(scheme, row, 32, imp, name + " row " + rIdx);
                        check(scheme, row, 32, null, name + " row " + rIdx + " unweighted");
                    }
                }
            }
        }
    }

    @Test
    void bnbLayoutStoresTheSearchedScaleInAbsmax() {
        Random r = new Random(5);
        int rows = 8, cols = 128;
        float[] x = new float[rows * cols], imp = new float[cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < cols; i++) imp[i] = (float) Math.exp(r.nextGaussian());
        FourBit plain = FourBit.quantize(new ArraySource(x, new long[] {rows, cols}), Codebook4.NF4, 64, false, "w");
        FourBit searched = FourBit.quantize(new ArraySource(x, new long[] {rows, cols}), Codebook4.NF4, 64, false, "w", imp, false);
        float[] w = new float[x.length];
        for (int i = 0; i < x.length; i++) w[i] = imp[i % cols];
        double ep = err(x, plain.dequantizeAll(), w), es = err(x, searched.dequantizeAll(), w);
        assertTrue(es < ep, "searched " + es + " vs absmax " + ep);
        // bitsandbytes dequantizes code × absmax field: recompute from the packed bytes and the stored field
        float[] table = Codebook4.NF4.table();
        for (int i = 0; i < x.length; i++) {
            int b = searched.packed()[i >>> 1] & 0xff, code = (i & 1) == 0 ? b >>> 4 : b & 0xf;
            assertEquals(table[code] * searched.absmax()[i / 64], searched.dequantizeAll()[i], 0f);
        }
        boolean differs = false;
        for (int b = 0; b < plain.absmax().length; b++) differs |= plain.absmax()[b] != searched.absmax()[b];
        assertTrue(differs, "the searched scales are stored in absmax");
    }
}
