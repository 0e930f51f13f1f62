package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the progress bar says: drawn from the start, in MiB or chunks (never raw bytes), no ETA before a rate is known. */
class ProgressTest {
    @Test
    void barSpeaksMibFromTheStart() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Progress p = Progress.to(err, "quantize", 9_835_008, Progress.Unit.MIB);
        String first = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(first.contains("quantize [------------------------]   0%  0.0/9.4 MiB  ETA ..."), first);
        Thread.sleep(250); // the bar redraws at most every 200 ms
        p.update(2_097_152);
        String second = bytes.toString(StandardCharsets.UTF_8).substring(first.length());
        assertTrue(second.contains("[#####-------------------]  21%  2.0/9.4 MiB  ETA ..."), second);
        assertFalse(second.contains("2097152"), "no raw byte counts");
        p.update(9_835_008);
        String last = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(last.contains("100%  9.4/9.4 MiB  elapsed "), last);
        p.done();
        assertTrue(bytes.toString(StandardCharsets.UTF_8).endsWith("\r"), "the line is cleared for what follows");
    }

    @Test
    void chunksAreCountedAsChunks() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = Progress.to(new PrintStream(bytes, true, StandardCharsets.UTF_8), "nf4", 16, Progress.Unit.CHUNKS);
        p.update(16);
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("100%  16/16 chunks  elapsed "), bytes.toString(StandardCharsets.UTF_8));
    }

    /** 9,835,008 bytes in 3.44 s: 2,859,014 B/s = 2.73 MiB/s (shown as such, not as 0.00 GB/s). */
    @Test
    void rateInAUnitThatShowsIt() {
        assertEquals("2.73 MiB", Units.rate(9_835_008, 3.44));
        assertEquals("-", Units.rate(100, 0));
    }
}
