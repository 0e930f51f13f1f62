package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The ggml block formats without the shared samples: decoding reference blocks against gguf-py's values, the
 * rounding helpers, all-zero blocks and round-trip error bounds.
 */
class GgmlFormatsTest {
    static final List<String> TYPES =
            List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K");

    /**
     * ggml-dequant-reference.txt: three blocks per type cut from llama.cpp's reference GGUFs of tiny-llama, with the
     * float32 values gguf-py 0.19.0's gguf.quants.dequantize gives for them (an independent numpy implementation
     * that multiplies in the same order as ggml's dequantize_row_*, so the values must match bit for bit).
     */
    @Test
    void decodesReferenceBlocksAsGgufPy() throws IOException {
        var hex = HexFormat.of();
        Set<String> seen = new HashSet<>();
        try (var in = new BufferedReader(new InputStreamReader(
                GgmlFormatsTest.class.getResourceAsStream("ggml-dequant-reference.txt"), StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] p = line.split(" ");
                WeightFormat f = WeightFormats.named(p[0]);
                assertNotNull(f, p[0]);
                byte[] block = hex.parseHex(p[4]);
                assertEquals(f.blockBytes(), block.length, line);
                float[] want = new float[f.blockSize()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(p[5].substring(8 * i, 8 * i + 8), 16));
                }
                // decode at an unaligned offset inside a larger segment, into the middle of the destination
                byte[] buf = new byte[block.length + 3];
                System.arraycopy(block, 0, buf, 3, block.length);
                float[] got = new float[want.length + 5];
                f.dequantize(MemorySegment.ofArray(buf), 3, f.blockSize(), got, 5);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[5 + i]),
                            () -> String.join(" ", p[0], p[2], p[3]) + ": " + Arrays.toString(got));
                }
                seen.add(p[0]);
            }
        }
        assertEquals(new HashSet<>(TYPES), seen);
    }

    @Test
    void roundingHelpersFollowC() {
        // nearest_int rounds half to even (the 1.5·2^23 trick), roundf half away from zero
        assertEquals(2, GgmlQuants.nearestInt(2.5f));
        assertEquals(4, GgmlQuants.nearestInt(3.5f));
        assertEquals(-2, GgmlQuants.nearestInt(-2.5f));
        assertEquals(-3, GgmlQuants.nearestInt(-2.6f));
        assertEquals(0, GgmlQuants.nearestInt(-0.5f));
        assertEquals(3.0f, GgmlQuants.roundf(2.5f));
        assertEquals(-3.0f, GgmlQuants.roundf(-2.5f));
        assertEquals(0.0f, GgmlQuants.roundf(0.49999997f));
        assertEquals(-127.0f, GgmlQuants.roundf(-126.5f));
        assertEquals(-0.0f, GgmlQuants.roundf(-0.3f)); // C99 7.12.9.6: the sign of zero is kept
        assertEquals(8388608.0f, GgmlQuants.roundf(8388607.5f)); // the last half below 2^23
        assertEquals(8388609.0f, GgmlQuants.roundf(8388609.0f));
        assertEquals(-1e30f, GgmlQuants.roundf(-1e30f));
        assertEquals(Float.NaN, GgmlQuants.roundf(Float.NaN));
        // best_index_int8: the nearer codebook value; a midpoint goes to the upper one
        int[] v = GgmlQuants.KVALUES_IQ4NL;
        assertEquals(0, GgmlQuants.bestIndexInt8(16, v, -1000f));
        assertEquals(15, GgmlQuants.bestIndexInt8(16, v, 1000f));
        assertEquals(8, GgmlQuants.bestIndexInt8(16, v, -4.5f)); // midpoint of -10 and 1
        assertEquals(7, GgmlQuants.bestIndexInt8(16, v, -4.6f));
        assertEquals(9, GgmlQuants.bestIndexInt8(16, v, 12f));
    }

    @Test
    void zeroBlocksEncodeToZeroAndDecodeToZero() {
        for (String t : TYPES) {
            WeightFormat f = WeightFormats.named(t);
            float[] x = new float[2 * f.blockSize()];
            byte[] q = new byte[2 * f.blockBytes()];
            java.util.Arrays.fill(q, (byte) 0x5a);
            f.quantize(x, 0, x.length, q, 0);
            float[] back = new float[x.length];
            f.dequantize(MemorySegment.ofArray(q), 0, x.length, back, 0);
            for (float b : back) assertEquals(0.0f, Math.abs(b), t);
        }
    }

    /** Relative RMS error of Gaussian data after a round trip, against each type's resolution. */
    @Test
    void roundTripErrorIsBoundedByBitsPerWeight() {
        double[][] bounds = {{8, 0.01}, {4, 0.13}, {5, 0.07}, {2, 0.45}, {3, 0.25}, {6, 0.04}};
        StringBuilder sb = new StringBuilder();
        for (String t : TYPES) {
            WeightFormat f = WeightFormats.named(t);
            int n = 256 * 64;
            float[] x = new float[n + 7];
            Random r = new Random(42);
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 0.02);
            byte[] q = new byte[(int) f.rowBytes(n) + 5];
            f.quantize(x, 7, n, q, 5);
            float[] back = new float[n];
            f.dequantize(MemorySegment.ofArray(q), 5, n, back, 0);
            double se = 0, ss = 0;
            for (int i = 0; i < n; i++) {
                double e = back[i] - x[7 + i];
                se += e * e;
                ss += (double) x[7 + i] * x[7 + i];
            }
            double rel = Math.sqrt(se / ss);
            int bits = Integer.parseInt(t.replaceAll("\\D*(\\d).*", "$1"));
            double bound = 0;
            for (double[] b : bounds) if (b[0] == bits) bound = b[1];
            sb.append(String.format(Locale.ROOT, "  %-7s %.2f bpw  rel RMS %.4f%n", t, f.bitsPerWeight(), rel));
            assertTrue(rel < bound, t + " rel " + rel + " >= " + bound);
        }
        System.out.print("ggml formats, Gaussian round trip:\n" + sb);
    }

    @Test
    void registeredWithGgufIdsAndSizes() {
        int[][] want = {{2, 32, 18}, {3, 32, 20}, {6, 32, 22}, {7, 32, 24}, {8, 32, 34}, {10, 256, 84}, {11, 256, 110},
                {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {20, 32, 18}, {23, 256, 136}};
        for (int[] w : want) {
            WeightFormat f = WeightFormats.ggml(w[0]);
            assertNotNull(f, "type " + w[0]);
            assertArrayEquals(w, new int[] {f.ggmlType(), f.blockSize(), f.blockBytes()}, f.name());
        }
    }
}
