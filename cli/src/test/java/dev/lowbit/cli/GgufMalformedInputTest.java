package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A malformed .gguf given to the CLI: one line naming the file and the problem, exit 2, no stack trace. */
class GgufMalformedInputTest {
    @TempDir
    static Path tmp;

    static Path reference() {
        return Samples.requireShared("tiny-llama/reference/gguf/tiny-llama-F16.gguf");
    }

    static UnaryOperator<byte[]> putLong(int at, long v) {
        return f -> {
            ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
            return f;
        };
    }

    static UnaryOperator<byte[]> putInt(int at, int v) {
        return f -> {
            ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
            return f;
        };
    }

    static Stream<Arguments> cases() {
        // header: magic 0, version 4, tensor count 8, metadata count 16; the first key's length at 24, its
        // text ("general.architecture", 20 bytes) at 32 and its value type at 52
        return Stream.of(
                Arguments.of("empty", (UnaryOperator<byte[]>) f -> new byte[0], "file is empty"),
                Arguments.of("bad magic", (UnaryOperator<byte[]>) f -> { f[0] = 'X'; return f; }, "not a GGUF file: magic is 'XGUF'"),
                Arguments.of("version 1", putInt(4, 1), "GGUF version 1 is obsolete"),
                Arguments.of("truncated header", (UnaryOperator<byte[]>) f -> Arrays.copyOf(f, 12), "truncated: tensor count at offset 8"),
                Arguments.of("truncated data", (UnaryOperator<byte[]>) f -> Arrays.copyOf(f, f.length / 2), "runs past the end of the data section"),
                Arguments.of("lying tensor count", putLong(8, Long.MAX_VALUE), "tensor count 9223372036854775807 cannot fit"),
                Arguments.of("lying metadata count", putLong(16, 1L << 60), "metadata count 1152921504606846976 cannot fit"),
                Arguments.of("lying key length", putLong(24, 1L << 40), "metadata key 0 at offset 24 claims 1099511627776 bytes"),
                Arguments.of("unknown value type", putInt(52, 42), "metadata 'general.architecture' has unknown value type 42"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inspectGivesOneLineAndExit2(String name, UnaryOperator<byte[]> mutate, String expected) throws IOException {
        byte[] f = Files.readAllBytes(reference());
        Path dir = Files.createDirectories(tmp.resolve(name.replace(' ', '_')));
        Path input = Files.write(dir.resolve("model.gguf"), mutate.apply(f));
        CliRun r = CliRun.of("inspect", input.toString());
        String msg = r.err().strip();
        assertEquals(2, r.code(), msg);
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        assertTrue(msg.startsWith("lowbit: "), msg);
        assertTrue(msg.contains(input.toString()), "names the file: " + msg);
        assertTrue(msg.contains(expected), "says '" + expected + "': " + msg);
        assertFalse(msg.contains("Exception"), msg);
        assertEquals("", r.out());
    }

    @Test
    void inspectListsTheGgufTypes() {
        CliRun r = CliRun.of("inspect", reference().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture  llama"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.attn_q\\.weight\\s+F16\\s+\\[256, 256\\].*"), r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.attn_norm\\.weight\\s+F32\\s+\\[256\\].*"), r.out());
    }
}
