package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The lane paths over stored bits against one value at a time: BF16 decoding bit for bit (NaN payloads, ±0,
 * subnormals, ±Inf among random patterns), and each block's largest magnitude against the max of |decoded value|
 * (NaN for a block holding a NaN, +Inf for one holding an infinity), at lengths with vector and scalar tails.
 */
class FloatLanesTest {
    private static final short[] SPECIAL16 = {0, (short) 0x8000, 0x7f80, (short) 0xff80, 0x7fc1, (short) 0xffff, 0x0001, 0x7c00, (short) 0xfc00, 0x7e00, 0x7bff};

    @Test
    void bf16DecodesAsFloatBits() {
        SplittableRandom r = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {0, 1, 7, 8, 9, 64, 1000, 4099}) {
                MemorySegment seg = arena.allocate(2L * n + 6);
                short[] bits = new short[n];
                for (int i = 0; i < n; i++) {
                    bits[i] = i < SPECIAL16.length ? SPECIAL16[i] : (short) r.nextInt();
                    seg.set(Tensor.SHORT, 6 + 2L * i, bits[i]); // at an odd offset from 8: unaligned loads
                }
                float[] got = new float[n + 3];
                FloatLanes.bf16ToFloats(seg, 6, got, 3, n);
                for (int i = 0; i < n; i++)
                    assertEquals(Float.floatToRawIntBits(FloatBits.bf16ToFloat(bits[i])), Float.floatToRawIntBits(got[3 + i]), "n " + n + " element " + i);
            }
        }
    }

    @Test
    void blockAbsmaxIsTheLargestDecodedMagnitude() {
        SplittableRandom r = new SplittableRandom(4);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                for (int block : new int[] {32, 64, 100}) {
                    int n = block * 7 + 13;
                    MemorySegment seg = arena.allocate((long) n * dtype.size());
                    for (int i = 0; i < n; i++) {
                        float v = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-6, 3)));
                        if (dtype == DType.F32) seg.set(Tensor.FLOAT, 4L * i, v);
                        else seg.set(Tensor.SHORT, 2L * i, dtype == DType.F16 ? FloatBits.floatToF16(v) : FloatBits.floatToBf16(v));
                    }
                    // block 2 holds a NaN, block 4 an infinity, block 5 only zeros (one negative), block 6 a subnormal
                    set(seg, dtype, 2 * block + 5, Float.NaN);
                    set(seg, dtype, 4 * block + 1, Float.NEGATIVE_INFINITY);
                    for (int i = 5 * block; i < 6 * block; i++) set(seg, dtype, i, i == 5 * block + 3 ? -0f : 0f);
                    for (int i = 6 * block; i < 7 * block; i++) set(seg, dtype, i, i == 6 * block + 9 ? -1e-41f : 0f);
                    Tensor t = new Tensor("t", dtype, new long[] {n}, seg);
                    int blocks = (n + block - 1) / block;
                    float[] out = new float[blocks + 1];
                    assertTrue(t.blockAbsmax(block, 1, blocks, out));
                    assertEquals(0f, out[0], "block 0 was not asked for");
                    for (int b = 1; b < blocks; b++) {
                        float want = 0;
                        for (long i = (long) b * block; i < Math.min(n, (long) (b + 1) * block); i++) {
                            float v = Math.abs((float) t.getDouble(i));
                            want = Float.isNaN(v) || Float.isNaN(want) ? Float.NaN : Math.max(want, v);
                        }
                        assertEquals(want, out[b], dtype + " block " + block + ": block " + b);
                    }
                    assertTrue(Float.isNaN(out[2]) && out[4] == Float.POSITIVE_INFINITY && Float.floatToRawIntBits(out[5]) == 0, dtype + " specials");
                }
            }
            assertEquals(false, new Tensor("i", DType.I32, new long[] {4}, arena.allocate(16)).blockAbsmax(2, 0, 2, new float[2]));
        }
    }

    private static void set(MemorySegment seg, DType dtype, int i, float v) {
        if (dtype == DType.F32) seg.set(Tensor.FLOAT, 4L * i, v);
        else seg.set(Tensor.SHORT, 2L * i, dtype == DType.F16 ? FloatBits.floatToF16(v) : FloatBits.floatToBf16(v));
    }
}
