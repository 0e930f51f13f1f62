package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.DType;
import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kernels.matmul over every Weights implementation against "decode here, then a plain double matmul": the stored
 * bytes are random and decoded in this test from the documented layouts (IEEE/bfloat16 bit patterns; LLM.int8 rows
 * w = q·absmax/127; Q8_0-style blocks of 32 with an f16 scale; int4 groups with the first element in the LOW nibble;
 * NF4/FP4 as bitsandbytes packs them, first element in the HIGH nibble, with the code tables published in SPECS.md).
 * Shapes have tails: rows off the panel width (16 scalar, 2 vector lengths in PanamaOps), odd columns so 4-bit rows
 * start mid-byte, blocks and groups straddling rows, and more tokens than one token block (512).
 */
class NaiveMatmulTest {
    static final float[] NF4 = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
            -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f,
            0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    static final float[] FP4_TIMES_12 = {0, 0.0625f, 8, 12, 4, 6, 2, 3, -0f, -0.0625f, -8, -12, -4, -6, -2, -3};

    static final Arena ARENA = Arena.ofShared();

    /** A weight under test and its decode computed here, [rows × cols]. */
    record Case(String name, Weights w, double[] want) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** IEEE half by the formula: sign, 5-bit exponent (bias 15), 10-bit mantissa, subnormals. */
    static double half(int bits) {
        int s = bits >>> 15 & 1, e = bits >>> 10 & 31, m = bits & 1023;
        double v = e == 0 ? m * Math.pow(2, -24) : (1 + m / 1024.0) * Math.pow(2, e - 15);
        return s == 1 ? -v : v;
    }

    static double bf16(int bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Random finite half / bfloat16 bit patterns of moderate magnitude. */
    static short randomHalf(Random r) {
        return Float.floatToFloat16((float) (r.nextGaussian() * 0.5));
    }

    static short randomBf16(Random r) {
        return (short) (Float.floatToRawIntBits((float) (r.nextGaussian() * 0.5)) >>> 16 ^ r.nextInt(2));
    }

    static MemorySegment bytes(byte[] b) {
        MemorySegment s = ARENA.allocate(Math.max(1, b.length));
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s.asSlice(0, b.length);
    }

    static MemorySegment shorts(short[] v) {
        byte[] b = new byte[2 * v.length];
        for (int i = 0; i < v.length; i++) {
            b[2 * i] = (byte) v[i];
            b[2 * i + 1] = (byte) (v[i] >>> 8);
        }
        return bytes(b);
    }

    static MemorySegment floats(float[] v) {
        byte[] b = new byte[4 * v.length];
        for (int i = 0; i < v.length; i++) {
            int x = Float.floatToRawIntBits(v[i]);
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (x >>> 8 * k);
        }
        return bytes(b);
    }

    static List<Case> cases(int rows, int cols, long seed) {
        Random r = new Random(seed);
        int n = rows * cols;
        List<Case> out = new ArrayList<>();
        // F32 row-major and transposed [cols × rows]
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) r.nextGaussian();
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = f[i];
        out.add(new Case("f32", new F32Weights(floats(f), rows, cols), want));
        float[] ft = new float[n];
        for (int row = 0; row < rows; row++) for (int c = 0; c < cols; c++) ft[c * rows + row] = f[row * cols + c];
        out.add(new Case("f32 transposed", new TransposedWeights(floats(ft), DType.F32, rows, cols), want));
        // F16 and BF16, row-major and transposed
        for (String kind : new String[] {"f16", "bf16"}) {
            short[] h = new short[n], ht = new short[n];
            double[] w = new double[n];
            for (int i = 0; i < n; i++) {
                h[i] = kind.equals("f16") ? randomHalf(r) : randomBf16(r);
                w[i] = kind.equals("f16") ? half(h[i] & 0xffff) : bf16(h[i] & 0xffff);
            }
            for (int row = 0; row < rows; row++) for (int c = 0; c < cols; c++) ht[c * rows + row] = h[row * cols + c];
            out.add(new Case(kind, kind.equals("f16") ? new F16Weights(shorts(h), rows, cols) : new Bf16Weights(shorts(h), rows, cols), w));
            out.add(new Case(kind + " transposed", new TransposedWeights(shorts(ht), kind.equals("f16") ? DType.F16 : DType.BF16, rows, cols), w));
        }
        // LLM.int8 rows: w = q · absmax / 127
        {
            byte[] q = new byte[n];
            r.nextBytes(q);
            float[] absmax = new float[rows];
            double[] w = new double[n];
            for (int row = 0; row < rows; row++) absmax[row] = 0.05f + r.nextFloat();
            // in float, in the documented order (q · absmax, then / 127), so that decodeRows can be compared bit for bit
            for (int i = 0; i < n; i++) w[i] = q[i] * absmax[i / cols] / 127f;
            out.add(new Case("int8 rows", new Int8RowWeights(bytes(q), absmax, rows, cols), w));
        }
        // Q8_0 blocks (lowbit's int8-block, GGUF's Q8_0): per 32 values of a row, f16 d then 32 int8 codes; w = q · d
        if (cols % 32 == 0) {
            byte[] blocks = new byte[n / 32 * 34];
            double[] w = new double[n];
            for (int b = 0; b < n / 32; b++) {
                short d = Float.floatToFloat16(0.001f + r.nextFloat() * 0.02f);
                blocks[b * 34] = (byte) d;
                blocks[b * 34 + 1] = (byte) (d >> 8);
                for (int j = 0; j < 32; j++) {
                    byte q = (byte) r.nextInt(256);
                    blocks[b * 34 + 2 + j] = q;
                    w[b * 32 + j] = q * half(d & 0xffff);
                }
            }
            out.add(new Case("Q8_0 blocks", new BlockWeights(bytes(blocks), WeightFormats.named("Q8_0"), rows, cols), w));
        }
        // GGUF Q4_0 blocks: f16 d then 16 bytes; w_j = d·((qs[j] & 15) − 8), w_{j+16} = d·((qs[j] >> 4) − 8) (ggml-quants.c)
        if (cols % 32 == 0) {
            byte[] blocks = new byte[n / 32 * 18];
            double[] w = new double[n];
            for (int b = 0; b < n / 32; b++) {
                short d = Float.floatToFloat16((r.nextBoolean() ? 1 : -1) * (0.001f + r.nextFloat() * 0.05f));
                blocks[b * 18] = (byte) d;
                blocks[b * 18 + 1] = (byte) (d >> 8);
                for (int j = 0; j < 16; j++) {
                    int q = r.nextInt(256);
                    blocks[b * 18 + 2 + j] = (byte) q;
                    w[b * 32 + j] = ((q & 15) - 8) * half(d & 0xffff);
                    w[b * 32 + j + 16] = ((q >> 4) - 8) * half(d & 0xffff);
                }
            }
            out.add(new Case("Q4_0 blocks", new BlockWeights(bytes(blocks), WeightFormats.named("Q4_0"), rows, cols), w));
        }
        // GGUF Q4_K super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins (get_scale_min_k4), 128 bytes
        // of nibbles; pair j: low nibbles of qs[32j ..] are values 64j .., high nibbles the next 32 (dequantize_row_q4_K)
        if (cols % 256 == 0) {
            byte[] blocks = new byte[n / 256 * 144];
            double[] w = new double[n];
            for (int b = 0; b < n / 256; b++) {
                int o = b * 144;
                short d = Float.floatToFloat16(0.0005f + r.nextFloat() * 0.01f), dmin = Float.floatToFloat16(0.0005f + r.nextFloat() * 0.01f);
                blocks[o] = (byte) d;
                blocks[o + 1] = (byte) (d >> 8);
                blocks[o + 2] = (byte) dmin;
                blocks[o + 3] = (byte) (dmin >> 8);
                for (int i = 4; i < 144; i++) blocks[o + i] = (byte) r.nextInt(256);
                for (int j = 0; j < 4; j++)
                    for (int half = 0; half < 2; half++) {
                        int g = 2 * j + half, sc, m;
                        if (g < 4) {
                            sc = blocks[o + 4 + g] & 63;
                            m = blocks[o + 4 + g + 4] & 63;
                        } else {
                            sc = (blocks[o + 4 + g + 4] & 0xF) | (((blocks[o + 4 + g - 4] & 0xff) >> 6) << 4);
                            m = ((blocks[o + 4 + g + 4] & 0xff) >> 4) | (((blocks[o + 4 + g] & 0xff) >> 6) << 4);
                        }
                        for (int l = 0; l < 32; l++) {
                            int q = blocks[o + 16 + 32 * j + l] & 0xff;
                            w[b * 256 + 64 * j + 32 * half + l] = half(d & 0xffff) * sc * (half == 0 ? q & 15 : q >> 4) - half(dmin & 0xffff) * m;
                        }
                    }
            }
            out.add(new Case("Q4_K super-blocks", new BlockWeights(bytes(blocks), WeightFormats.named("Q4_K"), rows, cols), w));
        }
        // GGUF Q6_K super-blocks of 256: ql[128] low nibbles, qh[64] two high bits, i8 scales[16], f16 d; in half h, for
        // l < 32: values l, l+32, l+64, l+96 take (ql[l] & 15, ql[l+32] & 15, ql[l] >> 4, ql[l+32] >> 4) with bits 0-1,
        // 2-3, 4-5, 6-7 of qh[l], minus 32, times d · scales[8h + l/16 + 2k] (dequantize_row_q6_K)
        if (cols % 256 == 0) {
            byte[] blocks = new byte[n / 256 * 210];
            double[] w = new double[n];
            for (int b = 0; b < n / 256; b++) {
                int o = b * 210;
                for (int i = 0; i < 208; i++) blocks[o + i] = (byte) r.nextInt(256);
                short d = Float.floatToFloat16(0.0001f + r.nextFloat() * 0.002f);
                blocks[o + 208] = (byte) d;
                blocks[o + 209] = (byte) (d >> 8);
                for (int h = 0; h < 2; h++)
                    for (int l = 0; l < 32; l++) {
                        int a = blocks[o + 64 * h + l] & 0xff, c = blocks[o + 64 * h + l + 32] & 0xff, hb = blocks[o + 128 + 32 * h + l] & 0xff;
                        int[] q = {(a & 15) | (hb & 3) << 4, (c & 15) | (hb >> 2 & 3) << 4, (a >> 4) | (hb >> 4 & 3) << 4, (c >> 4) | (hb >> 6 & 3) << 4};
                        for (int k = 0; k < 4; k++)
                            w[b * 256 + 128 * h + l + 32 * k] = half(d & 0xffff) * blocks[o + 192 + 8 * h + l / 16 + 2 * k] * (q[k] - 32);
                    }
            }
            out.add(new Case("Q6_K super-blocks", new BlockWeights(bytes(blocks), WeightFormats.named("Q6_K"), rows, cols), w));
        }
        // lowbit int4 groups: f16 scale, [u8 zero], group/2 bytes, element 2j in the low nibble of byte j; w = (code − zero) · s
        for (int group : new int[] {32, 64}) {
            if (cols % group != 0) continue;
            for (boolean asym : new boolean[] {false, true}) {
                int bb = 2 + (asym ? 1 : 0) + group / 2, at = asym ? 3 : 2;
                byte[] blocks = new byte[n / group * bb];
                double[] w = new double[n];
                for (int g = 0; g < n / group; g++) {
                    short sc = Float.floatToFloat16(0.01f + r.nextFloat() * 0.1f);
                    int zero = asym ? r.nextInt(16) : 8;
                    blocks[g * bb] = (byte) sc;
                    blocks[g * bb + 1] = (byte) (sc >> 8);
                    if (asym) blocks[g * bb + 2] = (byte) zero;
                    for (int j = 0; j < group / 2; j++) {
                        int b = r.nextInt(256);
                        blocks[g * bb + at + j] = (byte) b;
                        w[g * group + 2 * j] = ((b & 15) - zero) * half(sc & 0xffff);
                        w[g * group + 2 * j + 1] = ((b >> 4) - zero) * half(sc & 0xffff);
                    }
                }
                out.add(new Case("int4 g" + group + (asym ? " asym" : ""), new BlockWeights(bytes(blocks),
                        WeightFormats.lowbit(asym ? "int4-asym" : "int4", group, cols), rows, cols), w));
            }
        }
        // NF4 / FP4 (bitsandbytes): element e in the HIGH nibble of byte e/2 when e is even; value = table[code] · absmax[e / block]
        for (Codebook4 book : new Codebook4[] {Codebook4.NF4, Codebook4.FP4}) {
            for (int block : new int[] {32, 64}) {
                byte[] packed = new byte[(n + 1) / 2];
                r.nextBytes(packed);
                float[] absmax = new float[(n + block - 1) / block];
                for (int b = 0; b < absmax.length; b++) absmax[b] = 0.1f + r.nextFloat();
                double[] w = new double[n];
                for (int e = 0; e < n; e++) {
                    int b = packed[e / 2] & 0xff, code = e % 2 == 0 ? b >> 4 : b & 15;
                    double v = book == Codebook4.NF4 ? NF4[code] : FP4_TIMES_12[code] / 12.0;
                    w[e] = (float) v * (double) absmax[e / block];
                }
                out.add(new Case(book.bnbName() + " b" + block, new FourBitWeights(bytes(packed), absmax, book, block, rows, cols), w));
            }
        }
        // Block formats of the registry that this test can decode by itself (float storage of the format's own width)
        for (WeightFormat fmt : WeightFormats.all()) {
            if (cols % fmt.blockSize() != 0) continue;
            switch (fmt.name().toUpperCase(java.util.Locale.ROOT)) {
                case "F32" -> out.add(new Case("block F32", new BlockWeights(floats(f), fmt, rows, cols), want));
                case "F16", "BF16" -> {
                    boolean isHalf = fmt.name().equalsIgnoreCase("F16");
                    short[] h = new short[n];
                    double[] w = new double[n];
                    for (int i = 0; i < n; i++) {
                        h[i] = isHalf ? randomHalf(r) : randomBf16(r);
                        w[i] = isHalf ? half(h[i] & 0xffff) : bf16(h[i] & 0xffff);
                    }
                    out.add(new Case("block " + fmt.name(), new BlockWeights(shorts(h), fmt, rows, cols), w));
                }
                default -> {}
            }
        }
        return out;
    }

    static Stream<Arguments> shapes() {
        // tokens, rows, cols: rows 1, 15, 17, 33, 47 and 50 leave tails of every panel width; cols 1, 7, 33 and 95 are odd
        return Stream.of("1,1,1", "3,15,7", "5,17,33", "13,33,64", "7,47,95", "2,50,96", "600,19,33").map(Arguments::of);
    }

    static void check(Case c, VectorOps ops, int tokens, long seed) {
        Weights w = c.w();
        int rows = w.rows(), cols = w.cols();
        Random r = new Random(seed);
        float[] x = new float[tokens * cols], bias = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) bias[i] = (float) r.nextGaussian();
        float[] got = new float[tokens * rows];
        Kernels.matmul(ops, w, x, tokens, got, bias);
        for (int t = 0; t < tokens; t++)
            for (int row = 0; row < rows; row++) {
                double s = bias[row], mag = Math.abs(bias[row]);
                for (int k = 0; k < cols; k++) {
                    double p = x[t * cols + k] * c.want()[row * cols + k];
                    s += p;
                    mag += Math.abs(p);
                }
                assertEquals(s, got[t * rows + row], 1e-6 + 2e-6 * mag, c + " " + ops.getClass().getSimpleName() + " out[" + t + "][" + row + "]");
            }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void everyWeightFormatEqualsDecodeThenPlainMatmul(String shape) {
        String[] p = shape.split(",");
        int tokens = Integer.parseInt(p[0]), rows = Integer.parseInt(p[1]), cols = Integer.parseInt(p[2]);
        List<Case> cases = cases(rows, cols, shape.hashCode());
        assertTrue(cases.size() >= (cols % 64 == 0 ? 17 : 11), "every Weights implementation is covered: " + cases);
        for (Case c : cases) {
            check(c, new PanamaOps(), tokens, 7);
            check(c, new ScalarOps(), tokens, 7);
        }
    }

    /**
     * decodeRows of any starting row and count equals the decode here, bit for bit: rows of 33 (odd offsets start 4-bit
     * rows mid-byte, blocks straddle rows) and of 128 (whole blocks a row, the path models take).
     */
    @ParameterizedTest
    @ValueSource(ints = {33, 128})
    void decodeRowsEqualsTheDocumentedLayoutExactly(int cols) {
        int rows = 9;
        for (Case c : cases(rows, cols, 99)) {
            for (int row = 0; row < rows; row++)
                for (int n = 1; row + n <= rows; n += 3) {
                    float[] dst = new float[n * cols];
                    c.w().decodeRows(row, n, dst);
                    for (int i = 0; i < dst.length; i++)
                        assertEquals((float) c.want()[row * cols + i], dst[i], 0f, c + " rows " + row + "+" + n + " element " + i);
                }
        }
    }

    /** Registry formats this test cannot decode by itself still multiply like their own decodeRows: named, so none hides. */
    @Test
    void otherRegisteredFormatsMultiplyLikeTheirDecode() {
        Random r = new Random(5);
        List<String> checked = new ArrayList<>();
        for (WeightFormat fmt : WeightFormats.all()) {
            int cols = fmt.blockSize() * 3, rows = 37;
            float[] src = new float[rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            byte[] q = new byte[(int) (rows * fmt.rowBytes(cols))];
            for (int row = 0; row < rows; row++) fmt.quantize(src, row * cols, cols, q, (int) (row * fmt.rowBytes(cols)));
            Weights w = new BlockWeights(bytes(q), fmt, rows, cols);
            float[] dec = new float[rows * cols];
            w.decodeRows(0, rows, dec);
            double[] want = new double[dec.length];
            for (int i = 0; i < dec.length; i++) want[i] = dec[i];
            check(new Case("block " + fmt.name(), w, want), new PanamaOps(), 21, 3);
            checked.add(fmt.name());
        }
        assertTrue(checked.containsAll(List.of("F32", "F16", "BF16")), checked.toString());
    }
}
