package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackgroundOutputStreamTest {
    @Test
    void bytesArriveInOrderWhateverTheWriteFillAndPutSizes() throws IOException {
        Random r = new Random(11);
        ByteArrayOutputStream expected = new ByteArrayOutputStream(), target = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofShared(); BackgroundOutputStream out = new BackgroundOutputStream(Channels.newChannel(target))) {
            for (int i = 0; i < 80; i++) {
                int kind = r.nextInt(5);
                if (kind == 4) { // a segment the writer takes as it is: small (copied into the block) or not
                    byte[] a = new byte[r.nextInt(3) == 0 ? r.nextInt(BackgroundOutputStream.SMALL + 2) : r.nextInt(3 * BackgroundOutputStream.BLOCK / 2)];
                    r.nextBytes(a);
                    MemorySegment s = arena.allocate(Math.max(1, a.length)).asSlice(0, a.length);
                    MemorySegment.copy(a, 0, s, ValueLayout.JAVA_BYTE, 0, a.length);
                    out.put(s);
                    expected.write(a);
                } else if (kind == 3) { // straight into the stream's buffer: small, about a block, more than a block
                    byte[] a = new byte[r.nextInt(3) == 0 ? r.nextInt(100) : r.nextInt(3 * BackgroundOutputStream.BLOCK / 2)];
                    r.nextBytes(a);
                    out.fill(a.length, (buf, at) -> System.arraycopy(a, 0, buf, at, a.length));
                    expected.write(a);
                } else if (kind == 0) {
                    int b = r.nextInt(256);
                    out.write(b);
                    expected.write(b);
                } else {
                    byte[] a = new byte[kind == 1 ? r.nextInt(100) : r.nextInt(3 * BackgroundOutputStream.BLOCK / 2)];
                    r.nextBytes(a);
                    int off = a.length == 0 ? 0 : r.nextInt(a.length), len = a.length - off;
                    out.write(a, off, len);
                    expected.write(a, off, len);
                    a[off == a.length ? 0 : off] ^= 1; // the caller may reuse its buffer at once
                }
            }
        }
        assertEquals(expected.size(), target.size());
        assertArrayEquals(expected.toByteArray(), target.toByteArray());
    }

    @Test
    void aSegmentLargerThanAPieceArrivesWholeAfterTheBlockBeforeIt() throws IOException {
        int n = 3 * BackgroundOutputStream.PIECE / 2 + 5;
        ByteArrayOutputStream target = new ByteArrayOutputStream(n + 3);
        try (Arena arena = Arena.ofShared(); BackgroundOutputStream out = new BackgroundOutputStream(Channels.newChannel(target))) {
            MemorySegment s = arena.allocate(n);
            for (int i = 0; i < n; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + (i >>> 13)));
            out.write(new byte[] {1, 2});
            out.put(s);
            out.write(3);
        }
        byte[] b = target.toByteArray();
        assertEquals(n + 3, b.length);
        assertEquals(1, b[0]);
        assertEquals(2, b[1]);
        for (int i = 0; i < n; i++) if (b[2 + i] != (byte) (i * 7 + (i >>> 13))) throw new AssertionError("byte " + i + " of the segment differs");
        assertEquals(3, b[n + 2]);
    }

    @Test
    void aSegmentConfinedToTheCallerIsCopied() throws IOException {
        int n = BackgroundOutputStream.SMALL * 3 + 1;
        ByteArrayOutputStream target = new ByteArrayOutputStream();
        byte[] want = new byte[n];
        new Random(5).nextBytes(want);
        try (Arena arena = Arena.ofConfined(); BackgroundOutputStream out = new BackgroundOutputStream(Channels.newChannel(target))) {
            MemorySegment s = arena.allocate(n);
            MemorySegment.copy(want, 0, s, ValueLayout.JAVA_BYTE, 0, n);
            out.put(s);
        }
        assertArrayEquals(want, target.toByteArray());
    }

    @Test
    void aFailedWriteIsRethrownToTheProducer() {
        OutputStream failing = new OutputStream() {
            long n;

            @Override
            public void write(int b) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if ((n += len) > 2L * BackgroundOutputStream.BLOCK) throw new IOException("No space left on device");
            }
        };
        IOException e = assertThrows(IOException.class, () -> {
            try (BackgroundOutputStream out = new BackgroundOutputStream(Channels.newChannel(failing))) {
                byte[] a = new byte[1 << 20];
                for (int i = 0; i < 200; i++) out.write(a);
            }
        });
        assertEquals("No space left on device", e.getMessage());
    }

    @Test
    void aFailingBodyLeavesNoFileBehind(@TempDir Path dir) {
        Path target = dir.resolve("w.bin");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[3 * BackgroundOutputStream.BLOCK]);
            throw new IllegalStateException("encoder failed");
        }, true));
        assertFalse(Files.exists(target));
        assertTrue(dir.toFile().list().length == 0, "temp file left: " + String.join(", ", dir.toFile().list()));
    }
}
