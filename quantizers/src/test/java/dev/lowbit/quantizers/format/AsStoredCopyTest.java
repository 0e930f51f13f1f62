package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.formats.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Rows taken as stored (BF16 weights to BF16, F16 to F16, F32 to F32) are the bytes decoding and encoding them would
 * give: NaNs quieted as the encoder quiets them, everything else unchanged.
 */
class AsStoredCopyTest {
    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** copy(src) against quantize(dequantize(src)), both at odd offsets. */
    static void assertCopyIsTheRoundTrip(WeightFormat f, MemorySegment src, long off, int n) {
        float[] decoded = new float[n];
        f.dequantize(src, off, n, decoded, 0);
        byte[] want = new byte[3 + n * f.blockBytes()], got = new byte[want.length];
        f.quantize(decoded, 0, n, want, 3);
        f.copy(src, off, n, got, 3);
        assertArrayEquals(want, got, f.name() + " n " + n);
    }

    @Test
    void everySixteenBitPatternCopiesAsItsRoundTrip() {
        for (String name : new String[] {"BF16", "F16"}) {
            WeightFormat f = WeightFormats.named(name);
            MemorySegment all = MemorySegment.ofArray(new byte[1 + 2 * 65536]);
            for (int b = 0; b < 65536; b++) all.set(LE16, 1 + 2L * b, (short) b);
            assertCopyIsTheRoundTrip(f, all, 1, 65536); // holds NaNs: value by value
            int nanFree = name.equals("BF16") ? 0x7f81 : 0x7c01; // +0 .. +Inf: the bulk copy
            assertCopyIsTheRoundTrip(f, all, 1, nanFree);
            assertCopyIsTheRoundTrip(f, all, 1 + 2L * 0x8000, nanFree); // -0 .. -Inf
            for (int at : new int[] {0, 5, 100}) { // one NaN among finite values: value by value
                MemorySegment row = MemorySegment.ofArray(new byte[1 + 2 * 101]);
                for (int i = 0; i < 101; i++) row.set(LE16, 1 + 2L * i, (short) (i * 97));
                row.set(LE16, 1 + 2L * at, (short) (name.equals("BF16") ? 0xff81 : 0x7c01)); // signalling NaNs
                assertCopyIsTheRoundTrip(f, row, 1, 101);
            }
        }
    }

    @Test
    void float32CopiesEveryBitPattern() {
        WeightFormat f = WeightFormats.named("F32");
        Random r = new Random(3);
        int n = 1 << 16;
        MemorySegment src = MemorySegment.ofArray(new byte[1 + 4 * n]);
        for (int i = 0; i < n; i++) src.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1 + 4L * i,
                i < 8 ? 0x7f800001 + i * 0x100000 | (i & 1) << 31 : r.nextInt()); // signalling and quiet NaNs first
        assertCopyIsTheRoundTrip(f, src, 1, n);
    }

    @Test
    void onlyTheSameStorageIsCopied() {
        for (WeightFormat f : WeightFormats.all())
            for (DType d : DType.values()) {
                boolean same = f.name().equals(d.name()) && (d == DType.BF16 || d == DType.F16 || d == DType.F32);
                assertEquals(same, f.copies(d), f.name() + " from " + d);
            }
    }
}
