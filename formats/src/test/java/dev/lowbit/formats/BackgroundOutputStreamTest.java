package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackgroundOutputStreamTest {
    @Test
    void bytesArriveInOrderWhateverTheWriteAndFillSizes() throws IOException {
        Random r = new Random(11);
        ByteArrayOutputStream expected = new ByteArrayOutputStream(), target = new ByteArrayOutputStream();
        try (BackgroundOutputStream out = new BackgroundOutputStream(target)) {
            for (int i = 0; i < 60; i++) {
                int kind = r.nextInt(4);
                if (kind == 3) { // straight into the stream's buffer: small, about a block, more than a block
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
            try (BackgroundOutputStream out = new BackgroundOutputStream(failing)) {
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
