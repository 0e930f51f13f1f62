package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lane sum is the tree written out here (lanes i and i + L/2, then i and i + L/4, ...): lanes of very different
 * magnitudes make every other order a different float.
 */
class BlockDotsTest {
    @Test
    void laneSumIsTheTree() {
        int l = BlockDots.lanes();
        Random r = new Random(3);
        for (int rep = 0; rep < 200; rep++) {
            float[] lanes = new float[l];
            for (int i = 0; i < l; i++) lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
            float[] w = lanes.clone();
            for (int step = l / 2; step >= 1; step /= 2)
                for (int i = 0; i < step; i++) w[i] = w[i] + w[i + step];
            assertEquals(Float.floatToRawIntBits(w[0]), Float.floatToRawIntBits(BlockDots.sum(lanes)));
        }
    }

    /**
     * The final quants of an asymmetric K-quant group in lanes are the reference loop's ints (GgmlQuants' scalar twin):
     * random groups, values whose (x + dm) / d falls exactly on a half (nearest_int rounds those to even), beyond the
     * clamp on both sides, and a group at an odd offset, for the three shapes that use them (Q2_K, Q4_K, Q5_K).
     */
    @Test
    void groupQuantsMinInLanesAreTheReferenceLoop() {
        Random r = new Random(11);
        int[][] shapes = {{16, 3}, {32, 15}, {32, 31}};
        for (int rep = 0; rep < 3000; rep++) {
            int[] shape = shapes[rep % 3];
            int n = shape[0], nmax = shape[1], xo = 1 + r.nextInt(5);
            float d = (float) (Math.abs(r.nextGaussian()) * Math.pow(10, r.nextInt(5) - 3)) + 1e-6f, dm = (float) Math.abs(r.nextGaussian()) * d * nmax / 2;
            float[] x = new float[xo + n];
            for (int i = 0; i < n; i++) {
                x[xo + i] = switch (r.nextInt(4)) {
                    case 0 -> (r.nextInt(nmax + 1) + 0.5f) * d - dm; // on a half, up to float rounding
                    case 1 -> (float) r.nextGaussian() * d * nmax * 4; // past both clamps
                    default -> (float) r.nextGaussian() * d * nmax;
                };
            }
            int[] lanes = new int[n + 3], scalar = new int[n + 3];
            BlockDots.groupQuantsMin(x, xo, n, d, dm, nmax, lanes, 3);
            GgmlQuants.groupQuantsMinScalar(x, xo, n, d, dm, nmax, scalar, 3);
            assertEquals(Arrays.toString(scalar), Arrays.toString(lanes), "n " + n + ", nmax " + nmax + ", d " + d + ", dm " + dm);
        }
    }

    /**
     * The K-quants' and IQ4_XS' scales decoded in byte lanes are their scalar twins' floats, bit for bit, for random
     * super-blocks (any scale bits, NaN and infinite d included) at an odd offset; the row ends with its last super-block,
     * so a lane load past it would throw.
     */
    @Test
    void scalesInLanesAreTheScalarDecode() {
        Random r = new Random(9);
        record Case(String name, int stride, int perBlock, BlockDotsTest.Decode lanes, BlockDotsTest.Decode scalar) {}
        List<Case> cases = List.of(
                new Case("Q4_K", 144, 16, (s, o, n, d) -> BlockDots.k4Scales(s, o, 144, n, d), (s, o, n, d) -> BlockDots.k4ScalesScalar(s, o, 144, n, d)),
                new Case("Q5_K", 176, 16, (s, o, n, d) -> BlockDots.k4Scales(s, o, 176, n, d), (s, o, n, d) -> BlockDots.k4ScalesScalar(s, o, 176, n, d)),
                new Case("Q2_K", 84, 32, BlockDots::k2Scales, BlockDots::k2ScalesScalar),
                new Case("Q3_K", 110, 16, BlockDots::k3Scales, BlockDots::k3ScalesScalar),
                new Case("IQ4_XS", 136, 8, BlockDots::xsScales, BlockDots::xsScalesScalar));
        for (Case c : cases)
            for (int blocks : new int[] {1, 2, 3, 11}) {
                byte[] raw = new byte[3 + c.stride() * blocks];
                r.nextBytes(raw);
                MemorySegment src = MemorySegment.ofArray(raw);
                // the scratch dot() gives them (a decoder may store whole vectors past its last value)
                float[] want = new float[BlockDots.scratch(256 * blocks)], got = new float[want.length];
                c.scalar().decode(src, 3, 256 * blocks, want);
                c.lanes().decode(src, 3, 256 * blocks, got);
                for (int i = 0; i < c.perBlock() * blocks; i++)
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), c.name() + ", " + blocks + " super-blocks, scale " + i);
            }
    }

    interface Decode {
        void decode(MemorySegment src, long off, int n, float[] dst);
    }

    /** Q4_0 decoded in lanes gives the scalar decoder's floats, for random blocks (any scale bits) at any offset. */
    @Test
    void q4_0RowsAreTheScalarDecode() {
        Random r = new Random(5);
        for (int blocks : new int[] {1, 2, 7, 24}) {
            byte[] raw = new byte[3 + 18 * blocks];
            r.nextBytes(raw);
            MemorySegment src = MemorySegment.ofArray(raw);
            float[] want = new float[5 + 32 * blocks], got = new float[want.length];
            Q4_0.dequantizeScalar(src, 3, 32 * blocks, want, 5);
            BlockDots.q4_0Rows(src, 3, 32 * blocks, got, 5);
            for (int i = 0; i < want.length; i++)
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), blocks + " blocks, value " + i);
        }
    }

    /** A row w encoded by f at odd byte 5 of an array, and Σ decoded(w)·x[3 ..] computed in double, with Σ|decoded(w)·x|. */
    record Row(MemorySegment src, double want, double scale) {}

    static Row row(WeightFormat f, float[] w, float[] x) {
        int n = w.length;
        byte[] raw = new byte[5 + Math.toIntExact(f.rowBytes(n))];
        f.quantize(w, 0, n, raw, 5);
        MemorySegment src = MemorySegment.ofArray(raw);
        float[] back = new float[n];
        f.dequantize(src, 5, n, back, 0);
        double want = 0, scale = 0;
        for (int i = 0; i < n; i++) {
            want += (double) back[i] * x[3 + i];
            scale += Math.abs((double) back[i] * x[3 + i]);
        }
        return new Row(src, want, scale);
    }

    static float[] gaussian(Random r, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sigma);
        return v;
    }

    /**
     * nf4/fp4 and int4 rows (lowbit's blocks: two elements a byte) dotted from their blocks with x split into even and
     * odd elements: the dot of the dequantized row with x, computed in double (1e-5 of Σ|w·x|: float sums inside), for
     * every block size the fused dot takes, and an all-zero block among them.
     */
    @Test
    void fourBitDotIsTheDequantizedRowsDot() {
        Random r = new Random(9);
        for (String name : new String[] {"nf4", "fp4", "int4", "int4-asym"})
            for (int block : new int[] {32, 64, 128}) {
                WeightFormat f = WeightFormats.lowbit(name, block, 4 * block);
                if (!BlockDots.supports(f)) { // a block of fewer bytes than a vector's lanes
                    assertEquals(true, block / 2 < BlockDots.lanes(), name + " block " + block);
                    continue;
                }
                for (int blocks : new int[] {1, 3, 8}) {
                    int n = blocks * block;
                    float[] w = gaussian(r, n, 0.02), x = gaussian(r, n + 3, 1);
                    if (blocks > 1) Arrays.fill(w, block, 2 * block, 0f);
                    Row row = row(f, w, x);
                    float[] split = new float[n + 2];
                    BlockDots.split(x, 3, n, split, 2);
                    float got = BlockDots.dot(f, row.src(), 5, n, split, 2, new float[BlockDots.scratch(n)]);
                    assertEquals(row.want(), got, 1e-5 * row.scale(), name + " block " + block + ", " + blocks + " blocks");
                }
            }
    }

    /**
     * GGUF block rows dotted from their blocks: the dot of the format's own dequantized row, in double (1e-5 of
     * Σ|w·x|), for one block up to 24 of them (super-blocks up to 8), whose magnitudes differ from block to block so
     * that the scales and mins take many values.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void blockDotIsTheDequantizedRowsDot(String name) {
        WeightFormat f = WeightFormats.named(name);
        if (!BlockDots.supports(f)) return; // fewer than 8 lanes a vector: no fused dots at all
        Random r = new Random(name.hashCode());
        int block = f.blockSize();
        for (int blocks : block == 32 ? new int[] {1, 2, 7, 24} : new int[] {1, 3, 8}) {
            float[] w = gaussian(r, block * blocks, 0.02), x = gaussian(r, block * blocks + 3, 1);
            for (int i = 0; i < w.length; i++) w[i] *= 1 + (i / 16 * 7919 % 13) + (i % 5 == 0 ? 0.3f : 0); // groups of 16 at 1 to 13 times
            Row row = row(f, w, x);
            int n = w.length;
            assertEquals(row.want(), BlockDots.dot(f, row.src(), 5, n, x, 3, new float[BlockDots.scratch(n)]), 1e-5 * row.scale(), blocks + " blocks");
        }
    }

    /**
     * F16 and BF16 rows dotted from memory: the dot of the decoded row in double (1e-5 of Σ|w·x|), with subnormal and
     * zero weights and row lengths off the vector pairs (a tail).
     */
    @Test
    void halfRowsDotIsTheDecodedRowsDot() {
        Random r = new Random(17);
        for (String name : new String[] {"F16", "BF16"}) {
            WeightFormat f = WeightFormats.named(name);
            if (!BlockDots.supports(f)) return; // fewer than 8 lanes a vector: no fused dots at all
            for (int n : new int[] {1, 15, 16, 33, 64, 200, 768}) {
                float[] w = gaussian(r, n, 0.05), x = gaussian(r, n + 3, 1);
                for (int i = 0; i < n; i++) w[i] = i % 11 == 3 ? 3e-6f * (i % 2 == 0 ? 1 : -1) : i % 13 == 5 ? 0f : w[i];
                if (name.equals("BF16")) w[0] = 1e-39f; // a subnormal bf16
                Row row = row(f, w, x);
                assertEquals(row.want(), BlockDots.dot(f, row.src(), 5, n, x, 3, new float[BlockDots.scratch(n)]), 1e-5 * row.scale() + 1e-30, name + " n " + n);
            }
        }
    }
}
