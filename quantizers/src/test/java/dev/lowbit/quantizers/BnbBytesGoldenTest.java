package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The four byte rules where lowbit must write what bitsandbytes writes, each pinned by values produced outside
 * lowbit (torch 2.13.0 CPU, AVX2, one thread, and bitsandbytes' code as quoted), not by the code under test.
 */
class BnbBytesGoldenTest {

    /**
     * bitsandbytes.functional.create_dynamic_map(signed=True) (pure torch: torch.linspace in float32, means of
     * neighbours, times 10^(i-6), sorted), printed as float32 bit patterns by torch 2.13.0.
     */
    static final String DYNAMIC_MAP_BITS =
            "bf7e3333 bf7a999a bf770000 bf736666 bf6fcccd bf6c3333 bf68999a bf650000 " +
            "bf616666 bf5dcccd bf5a3333 bf56999a bf530000 bf4f6666 bf4bcccd bf483333 " +
            "bf44999a bf410000 bf3d6666 bf39cccd bf363334 bf32999a bf2f0000 bf2b6666 " +
            "bf27cccd bf243334 bf20999a bf1d0000 bf196666 bf15cccd bf123334 bf0e999a " +
            "bf0b0000 bf076666 bf03cccc bf003333 bef93332 bef20000 beeacccc bee3999a " +
            "bedc6666 bed53333 bece0000 bec6cccc bebf999a beb86666 beb13333 beaa0000 " +
            "bea2cccc be9b999a be946666 be8d3334 be860000 be7d9999 be6f3333 be60cccd " +
            "be526666 be440000 be35999a be273333 be18cccd be0a6666 bdf80000 bddb3334 " +
            "bdc9eb85 bdc428f7 bdbe6667 bdb8a3d7 bdb2e148 bdad1eb8 bda75c2a bda1999a " +
            "bd9bd70a bd96147b bd9051eb bd8a8f5d bd84cccd bd7e147b bd728f5d bd670a3d " +
            "bd5b851f bd500000 bd447ae1 bd38f5c3 bd2d70a3 bd21eb85 bd166667 bd0ae148 " +
            "bcfeb852 bce7ae15 bcd0a3d7 bcb9999a bca28f5d bc8b851f bc68f5c3 bc3ae148 " +
            "bc1f3b64 bc160418 bc0ccccd bc039581 bbf4bc6a bbe24dd3 bbcfdf3b bbbd70a4 " +
            "bbab020d bb989374 bb8624dd bb676c8a bb428f5c bb1db22d baf1a9fc baa7ef9d " +
            "ba7765ff ba59e83e ba3c6a80 ba1eecc1 ba016f01 b9c7e283 b98ce705 b923d70b " +
            "b8ba1f4b b88aefb3 b8378034 b7b24206 b70205ff b65a1a94 b513a3b7 00000000 " +
            "3513a3b7 365a1a94 370205ff 37b24206 38378034 388aefb3 38ba1f4b 3923d70b " +
            "398ce705 39c7e283 3a016f01 3a1eecc1 3a3c6a80 3a59e83e 3a7765ff 3aa7ef9d " +
            "3af1a9fc 3b1db22d 3b428f5c 3b676c8a 3b8624dd 3b989374 3bab020d 3bbd70a4 " +
            "3bcfdf3b 3be24dd3 3bf4bc6a 3c039581 3c0ccccd 3c160418 3c1f3b64 3c3ae148 " +
            "3c68f5c3 3c8b851f 3ca28f5d 3cb9999a 3cd0a3d7 3ce7ae15 3cfeb852 3d0ae148 " +
            "3d166667 3d21eb85 3d2d70a3 3d38f5c3 3d447ae1 3d500000 3d5b851f 3d670a3d " +
            "3d728f5d 3d7e147b 3d84cccd 3d8a8f5d 3d9051eb 3d96147b 3d9bd70a 3da1999a " +
            "3da75c2a 3dad1eb8 3db2e148 3db8a3d7 3dbe6667 3dc428f7 3dc9eb85 3ddb3334 " +
            "3df80000 3e0a6666 3e18cccd 3e273333 3e35999a 3e440000 3e526666 3e60cccd " +
            "3e6f3333 3e7d9999 3e860000 3e8d3334 3e946666 3e9b999a 3ea2cccc 3eaa0000 " +
            "3eb13333 3eb86666 3ebf999a 3ec6cccc 3ece0000 3ed53333 3edc6666 3ee3999a " +
            "3eeacccc 3ef20000 3ef93332 3f003333 3f03cccc 3f076666 3f0b0000 3f0e999a " +
            "3f123334 3f15cccd 3f196666 3f1d0000 3f20999a 3f243334 3f27cccd 3f2b6666 " +
            "3f2f0000 3f32999a 3f363334 3f39cccd 3f3d6666 3f410000 3f44999a 3f483333 " +
            "3f4bcccd 3f4f6666 3f530000 3f56999a 3f5a3333 3f5dcccd 3f616666 3f650000 " +
            "3f68999a 3f6c3333 3f6fcccd 3f736666 3f770000 3f7a999a 3f7e3333 3f800000";

    @Test
    void nestedQuantMapEqualsBitsandbytesBitForBit() {
        String[] want = DYNAMIC_MAP_BITS.trim().split(" +");
        float[] map = DynamicMap.signed();
        assertEquals(256, want.length);
        for (int i = 0; i < 256; i++)
            assertEquals(want[i], String.format("%08x", Float.floatToRawIntBits(map[i])), "map[" + i + "]");
    }

    /** u(i) = ((i·2654435761) mod 2^32) / 2^32 in float64; x = float32(u² · scale + 0.001). */
    static float[] hashed(int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u = (double) ((i * 2654435761L) & 0xffffffffL) / 4294967296.0;
            x[i] = (float) (u * u * scale + 0.001);
        }
        return x;
    }

    /**
     * nested_offset is torch's float32 absmax.mean(), not a float64 mean rounded once: these arrays were chosen where
     * the two differ by an ulp; expected bits from torch.from_numpy(x).mean() (torch 2.13.0, CPU, 1 thread).
     */
    @Test
    void nestedOffsetIsTorchsFloat32Mean() {
        Object[][] cases = {{1000, 0.25, 0x3dacb617}, {1000, 3.0, 0x3f802020}, {1024, 0.01, 0x3b8dd10c}, {2816, 0.25, 0x3dacbd5f},
                {4099, 3.0, 0x3f801fa6}, {11008, 0.01, 0x3b8dfa04}, {16384, 0.25, 0x3dacac4d}, {30000, 0.01, 0x3b8dfd5d}};
        for (Object[] c : cases) {
            float[] x = hashed((int) c[0], (double) c[1]);
            assertEquals(Integer.toHexString((int) c[2]), Integer.toHexString(Float.floatToRawIntBits(DoubleQuant.of(x).offset())), "n=" + c[0] + " scale=" + c[1]);
        }
    }

    /** bitsandbytes' get_4bit_type("fp4") lists a Python int 0 at index 8, stored as +0.0 (bits 0), not -0.0. */
    @Test
    void fp4QuantMapEntry8IsPositiveZero() {
        assertEquals(0, Float.floatToRawIntBits(Codebook4.FP4.table()[8]));
    }

    /**
     * LLM.int8 codes as bitsandbytes' int8_vectorwise_quant computes them after Int8Params casts the weight to
     * float16: row_stats = max|A16| (float32), q = round(A16 · (127 / row_stats)). Expected from torch 2.13.0 running
     * that code on this row. Element 12 is where the old rule (rint(w · 127 / absmax) from float32) gave 63, not 64.
     */
    @Test
    void int8CodesFollowTheFloat16CastAndTheReciprocal() {
        int[] rowBits = {0x3c1595ff, 0xbcbafb7f, 0x3cf94f53, 0x3cf94f54, 0x3d3afb7f, 0xbd82e33f, 0x38bafb7f, 0x3d794f54,
                0x3c38ac8a, 0xbdbafb7f, 0x3cbafb7f, 0x3d8c3c9f, 0x3d3afb7e, 0x3bbafb7e, 0xbcf94f54, 0x3a6f5665};
        float[] row = new float[rowBits.length];
        for (int i = 0; i < row.length; i++) row[i] = Float.intBitsToFloat(rowBits[i]);
        Int8Row q = Int8Row.quantize(new ArraySource(row, new long[] {1, row.length}), "w");
        assertArrayEquals(new byte[] {13, -32, 42, 42, 64, -89, 0, 85, 16, -127, 32, 95, 64, 8, -42, 1}, q.q());
        assertEquals(0x3dbb0000, Float.floatToRawIntBits(q.scb()[0]));
    }

    /**
     * dQuantize (csrc/kernels.cu): the nearest map entry, decided against the float32 midpoint (a + b) · 0.5f; a value
     * exactly on a midpoint goes to whichever neighbour the binary search ended on (either is accepted here); the
     * ends clamp.
     */
    @Test
    void dynamicMapQuantizeDecidesByTheFloat32Midpoint() {
        float[] map = DynamicMap.signed();
        for (int i = 0; i < 255; i++) {
            float mid = (map[i] + map[i + 1]) * 0.5f;
            assertEquals(i, DynamicMap.quantize(map, map[i]), "exact value " + i);
            int atMid = DynamicMap.quantize(map, mid);
            assertEquals(true, atMid == i || atMid == i + 1, "midpoint " + i + " gave " + atMid);
            if (Math.nextUp(mid) < map[i + 1]) assertEquals(i + 1, DynamicMap.quantize(map, Math.nextUp(mid)), "above midpoint " + i);
            if (Math.nextDown(mid) > map[i]) assertEquals(i, DynamicMap.quantize(map, Math.nextDown(mid)), "below midpoint " + i);
        }
        assertEquals(0, DynamicMap.quantize(map, -2f));
        assertEquals(255, DynamicMap.quantize(map, 2f));
    }
}
