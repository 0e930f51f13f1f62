package dev.lowbit.quantizers.gguf;

import static dev.lowbit.formats.gguf.GgmlType.named;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The recipes' types take their ids and block geometry from the weight-format registry; they must agree with the
 * GGUF reader's table of every ggml type (transcribed separately from ggml.h and ggml.c's type_traits).
 */
class GgmlTypeTest {
    @Test
    void everyRecipeTypeMatchesTheReadersTable() {
        for (GgmlType t : GgmlType.values()) {
            var ggml = named(t.name());
            assertNotNull(ggml, t.name());
            assertEquals(ggml.id(), t.id, t + " id");
            assertEquals(ggml.blockSize(), t.blockSize, t + " block size");
            assertEquals(ggml.blockBytes(), t.blockBytes, t + " block bytes");
            assertEquals(t.name(), t.format().name().toUpperCase(Locale.ROOT), t + " format");
        }
    }

    @Test
    void rowBytesFollowTheBlockGeometry() {
        assertEquals(704 / 32 * 22, GgmlType.Q5_0.rowBytes(704));
        assertEquals(256 / 256 * 144, GgmlType.Q4_K.rowBytes(256));
        assertEquals(4L * 3 * 256 * 2, GgmlType.BF16.bytes(new long[] {256, 3, 4}));
    }
}
