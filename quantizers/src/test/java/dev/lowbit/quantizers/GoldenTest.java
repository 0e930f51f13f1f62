package dev.lowbit.quantizers;

import dev.lowbit.quantizers.format.WeightFormats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Expected values from the published tables (SPECS.md, bitsandbytes' kernels) and from hand computation. */
class GoldenTest {
    static final float[] NF4_PUBLISHED = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f,
            0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f,
            0.5626170039176941f, 0.7229568362236023f, 1.0f};

    @Test
    void nf4TableIsThePublishedOne() {
        assertArrayEquals(NF4_PUBLISHED, Codebook4.NF4.table());
        float[] fp4 = {0, 0.0625f, 8, 12, 4, 6, 2, 3, 0f, -0.0625f, -8, -12, -4, -6, -2, -3}; // [8] +0.0: get_4bit_type writes int 0
        for (int i = 0; i < 16; i++) assertEquals(fp4[i] / 12, Codebook4.FP4.value(i));
    }

    @Test
    void nf4PivotsAreMidpointsAndTiesGoToTheLowerCode() {
        for (int i = 0; i < 15; i++) {
            float p = Codebook4.NF4_PIVOTS[i];
            assertEquals((NF4_PUBLISHED[i] + NF4_PUBLISHED[i + 1]) / 2.0, p, 1e-7, "pivot " + i);
            assertEquals(i, Codebook4.NF4.code(p), "on pivot " + i);
            assertEquals(i + 1, Codebook4.NF4.code(Math.nextUp(p)), "just above pivot " + i);
        }
        assertEquals(0, Codebook4.NF4.code(-1f));
        assertEquals(15, Codebook4.NF4.code(1f));
    }

    /** The 4-step search gives what counting the pivots one by one gives, across [-1.1, 1.1] and at every pivot ± 1 ulp. */
    @Test
    void nf4SearchEqualsCountingPivots() {
        java.util.function.IntFunction<float[]> around = i -> new float[] {Math.nextDown(Codebook4.NF4_PIVOTS[i]), Codebook4.NF4_PIVOTS[i], Math.nextUp(Codebook4.NF4_PIVOTS[i])};
        java.util.List<Float> xs = new java.util.ArrayList<>();
        for (int i = 0; i <= 220_000; i++) xs.add(-1.1f + 2.2f * i / 220_000);
        for (int i = 0; i < 15; i++) for (float x : around.apply(i)) xs.add(x);
        for (float x : xs) {
            int count = 0;
            for (float p : Codebook4.NF4_PIVOTS) if (x > p) count++;
            assertEquals(count, Codebook4.NF4.code(x), "x=" + x);
        }
    }

    /**
     * The fused pass (codes and their error against code value × scale) gives the plain pass's codes, and the error
     * statistics computed here in double from the published table (float32 lanes inside: 1e-6 relative); the block
     * sits at an offset inside a larger array whose other values must not count.
     */
    @Test
    void nf4FusedCodesAndErrorEqualAPlainComputation() {
        java.util.Random r = new java.util.Random(11);
        for (int len : new int[] {64, 61, 7, 256, 1000}) {
            float[] v = new float[len];
            for (int i = 0; i < len; i++) v[i] = (float) (r.nextGaussian() * 0.03);
            float m = 0;
            for (float x : v) m = Math.max(m, Math.abs(x));
            float scale = m * 0.97f; // a double-quantized scale differs a little from the absmax the codes are made with
            int[] plain = new int[len], fused = new int[len];
            Nf4Codes.codes(v, len, 1f / m, plain);
            QuantError.Acc acc = new QuantError.Acc();
            float[] inside = new float[len + 12];
            java.util.Arrays.fill(inside, 9f);
            System.arraycopy(v, 0, inside, 5, len);
            Nf4Codes.codes(inside, 5, len, len, new float[] {1f / m}, new float[] {scale}, fused, 0, acc);
            assertArrayEquals(plain, fused, "len " + len);
            double sig = 0, err = 0, max = 0;
            for (int i = 0; i < len; i++) {
                double e = v[i] - (double) (NF4_PUBLISHED[plain[i]] * scale);
                sig += (double) v[i] * v[i];
                err += e * e;
                max = Math.max(max, Math.abs(e));
            }
            QuantError q = acc.result();
            assertEquals(len, q.count());
            assertEquals(Math.sqrt(err / len), q.rmse(), 1e-6 * q.rmse(), "rmse, len " + len);
            assertEquals(max, q.maxAbs(), 1e-6 * max, "max, len " + len);
            assertEquals(Math.sqrt(err / sig), q.relFrobenius(), 1e-6 * q.relFrobenius(), "rel, len " + len);
        }
    }

    /** The vector codes are the nearest published codes (ties low), including pivots, ±1, beyond ±1 and a tail off the vector length. */
    @Test
    void nf4VectorCodesEqualTheScalarTwin() {
        java.util.Random r = new java.util.Random(9);
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.6);
        for (int i = 0; i < 15; i++) v[i] = Codebook4.NF4_PIVOTS[i];
        v[20] = 1f;
        v[21] = -1f;
        v[22] = 7f;
        int[] codes = new int[v.length];
        Nf4Codes.codes(v, 997, 1f, codes);
        for (int i = 0; i < 997; i++) {
            // the code by counting the published table's midpoints (computed here in double) strictly below the clamped value
            double x = Math.max(-1f, Math.min(1f, v[i]));
            int want = 0;
            boolean onPivot = false;
            for (int k = 0; k < 15; k++) {
                double mid = (NF4_PUBLISHED[k] + (double) NF4_PUBLISHED[k + 1]) / 2;
                if (x > mid) want++;
                onPivot |= Math.abs(x - mid) < 1e-6;
            }
            // within an ulp or so of a midpoint the float literal of bitsandbytes' threshold decides (ties: see the pivot tests)
            if (onPivot) want = Codebook4.NF4.code((float) x);
            assertEquals(want, codes[i], "v=" + v[i]);
        }
    }

    @Test
    void fp4CodesAreNearest() {
        for (float x = -1f; x <= 1f; x += 0.001f) {
            int c = Codebook4.FP4.code(x);
            float best = Float.MAX_VALUE;
            for (int i = 0; i < 16; i++) best = Math.min(best, Math.abs(Codebook4.FP4.value(i) - x));
            assertEquals(best, Math.abs(Codebook4.FP4.value(c) - x), 1e-6, "x=" + x);
        }
    }

    /** Block 32: absmax 2 → scale 0.5; a value on the 7/8 pivot, one just above, 1.0 → 0.5 (code 12); then an all-zero block. */
    @Test
    void handComputedNf4Blocks() {
        float[] x = new float[32 + 32 + 5];
        x[0] = 2f;
        x[1] = -2f;
        x[3] = 0.03979014977812767f * 2;
        x[4] = Math.nextUp(0.03979014977812767f) * 2;
        x[5] = 1f;
        x[64] = -3f;
        x[66] = 3f;
        x[68] = 1.5f;
        FourBit q = FourBit.quantize(new ArraySource(x), Codebook4.NF4, 32, false, "t");
        assertEquals(35, q.packed().length);
        byte[] want = new byte[35];
        java.util.Arrays.fill(want, (byte) 0x77);
        java.util.Arrays.fill(want, 16, 32, (byte) 0x00); // the all-zero block: 0x00 as bitsandbytes' CUDA kernel (0 · 1/0 = NaN → code 0)
        want[0] = (byte) 0xF0;   // 15, 0
        want[1] = (byte) 0x77;   // 7 (zero), 7 (tie goes to the lower code)
        want[2] = (byte) 0x8C;   // 8, 12
        want[32] = (byte) 0x07;  // -3/3 → 0, 0 → 7
        want[33] = (byte) 0xF7;  // 3/3 → 15, 7
        want[34] = (byte) 0xC7;  // 1.5/3 = 0.5 ≤ pivot 0.50166 → 12, then the odd-length pad nibble 7
        assertArrayEquals(want, q.packed());
        assertArrayEquals(new float[] {2f, 0f, 3f}, q.absmax());
        assertEquals(0f, Math.abs(q.dequantize(40)), "the all-zero block dequantizes to 0");
        float[] y = new float[32];
        y[0] = 2f;
        y[1] = 1.0034f; // 0.5017 > pivot 0.50166 → code 13
        assertEquals(2f * 0.5626170039176941f, FourBit.quantize(new ArraySource(y), Codebook4.NF4, 32, false, "t").dequantize(1), 1e-7);
    }

    @Test
    void nanIsRefusedWithTheTensorName() {
        float[] x = new float[64];
        x[10] = Float.NaN;
        var e = assertThrows(IllegalArgumentException.class, () -> FourBit.quantize(new ArraySource(x), Codebook4.NF4, 64, false, "w.weight"));
        assertTrue(e.getMessage().contains("'w.weight'") && e.getMessage().contains("element 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FourBit.quantize(new ArraySource(x), Codebook4.NF4, 48, false, "t"));
    }

    @Test
    void dynamicMapMatchesPublishedEndpoints() {
        float[] m = DynamicMap.signed();
        assertEquals(256, m.length);
        assertEquals(-0.99296875f, m[0]);
        assertEquals(0f, m[127]);
        assertEquals(1.0f, m[255]);
        for (int i = 1; i < 256; i++) assertTrue(m[i] > m[i - 1], "strictly increasing at " + i);
    }

    @Test
    void doubleQuantRoundTripWithinTheMapsResolution() {
        java.util.Random r = new java.util.Random(3);
        float[] absmax = new float[1000];
        for (int i = 0; i < absmax.length; i++) absmax[i] = 0.01f + r.nextFloat() * 0.2f;
        DoubleQuant dq = DoubleQuant.of(absmax);
        float[] back = dq.absmax();
        float[] map = DynamicMap.signed();
        double maxGap = 0;
        for (int i = 1; i < 256; i++) maxGap = Math.max(maxGap, map[i] - map[i - 1]);
        for (int i = 0; i < absmax.length; i++) {
            double bound = maxGap / 2 * dq.nestedAbsmax()[i / 256] + 1e-7;
            assertEquals(absmax[i], back[i], bound, "absmax " + i);
        }
        assertEquals(4, dq.nestedAbsmax().length);
    }

    /** Row [127, -63.5, 0.5, 1.5] / absmax 127: q = rint(w·127/127) with halves to even. */
    @Test
    void int8RowRoundsHalfToEven() {
        Int8Row q = Int8Row.quantize(new ArraySource(new float[] {127f, -63.5f, 0.5f, 1.5f, 0, 0, 0, 0}, new long[] {2, 4}), "t");
        assertArrayEquals(new byte[] {127, -64, 0, 2, 0, 0, 0, 0}, q.q());
        assertArrayEquals(new float[] {127f, 0f}, q.scb());
    }

    /** Q8_0: d = 127/127 = 1, roundf halves away from zero: 2.5 → 3, −2.5 → −3. */
    @Test
    void int8BlockRoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        byte[] q = BlockQuantizer.quantize(new ArraySource(x, new long[] {1, 32}), WeightFormats.lowbit("int8-block", 32, 32), "t").data();
        assertEquals(34, q.length, "Q8_0 block: f16 scale + 32 codes");
        assertEquals(0x3c00, (q[0] & 0xff) | (q[1] & 0xff) << 8, "d = 1.0 in f16");
        assertEquals(127, q[2]);
        assertEquals(3, q[3]);
        assertEquals(-3, q[4]);
    }

    /** Symmetric group of 32: absmax 7 → scale 1, q = x + 8; asymmetric [0, 15] → scale 1, zero 0. */
    @Test
    void int4GroupsByHand() {
        float[] x = new float[32];
        x[0] = 7f;
        x[1] = -7f;
        x[2] = 3f;
        BlockQuantizer s = BlockQuantizer.quantize(new ArraySource(x, new long[] {1, 32}), WeightFormats.lowbit("int4", 32, 32), "t");
        assertEquals(18, s.data().length, "f16 scale + 16 bytes of codes");
        assertEquals(0x3c00, (s.data()[0] & 0xff) | (s.data()[1] & 0xff) << 8, "scale 1.0 in f16");
        assertEquals((byte) (15 | 1 << 4), s.data()[2]);
        assertEquals((byte) (11 | 8 << 4), s.data()[3]);
        assertEquals(0, s.error().maxAbs(), 1e-6);
        float[] y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = i % 16;
        BlockQuantizer a = BlockQuantizer.quantize(new ArraySource(y, new long[] {1, 32}), WeightFormats.lowbit("int4-asym", 32, 32), "t");
        assertEquals(19, a.data().length, "f16 scale + u8 zero + 16 bytes of codes");
        assertEquals(0, a.data()[2], "zero point");
        assertEquals((byte) (0 | 1 << 4), a.data()[3], "codes 0 and 1, the first in the low nibble");
        assertEquals(0, a.error().maxAbs(), 1e-6);
    }
}
