package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each case mutates the real sample and must end in one line naming the file and problem, and exit 2. */
class MalformedInputTest {
    @TempDir
    static Path tmp;

    interface Case {
        Path make(Path dir) throws IOException;
    }

    static byte[] sample() throws IOException {
        return Files.readAllBytes(Samples.tinyLlama().resolve("model.safetensors"));
    }

    static long headerLength(byte[] f) {
        return ByteBuffer.wrap(f, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The sample with its header text rewritten (length field updated). */
    static Case header(UnaryOperator<String> edit) {
        return dir -> {
            byte[] f = sample();
            int n = (int) headerLength(f);
            byte[] h = edit.apply(new String(f, 8, n, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            return write(dir, withHeader(h, Arrays.copyOfRange(f, 8 + n, f.length)));
        };
    }

    static byte[] withHeader(byte[] h, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(h.length).put(h).put(data).array();
    }

    static Case bytes(UnaryOperator<byte[]> edit) {
        return dir -> write(dir, edit.apply(sample()));
    }

    static Path write(Path dir, byte[] content) throws IOException {
        Path p = dir.resolve("model.safetensors");
        Files.write(p, content);
        return p;
    }

    /** A copy of the embedded sample folder whose index.json maps one tensor to `target`. */
    static Case index(String target) {
        return dir -> {
            Files.copy(Samples.tinyLlama().resolve("model.safetensors"), dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("model.safetensors.index.json"),
                    "{\"metadata\":{},\"weight_map\":{\"lm_head.weight\":\"" + target + "\"}}");
            return dir;
        };
    }

    static Case config(String json) {
        return dir -> {
            Files.copy(Samples.tinyLlama().resolve("model.safetensors"), dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("config.json"), json);
            return dir;
        };
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("empty file", bytes(f -> new byte[0]), "shorter than the 8-byte header length"),
                Arguments.of("truncated in the length", bytes(f -> Arrays.copyOf(f, 5)), "shorter than the 8-byte header length"),
                Arguments.of("truncated in the header", bytes(f -> Arrays.copyOf(f, 200)), "runs past the end of the file"),
                Arguments.of("truncated in the data", bytes(f -> Arrays.copyOf(f, f.length - 1000)), "outside the data area"),
                Arguments.of("trailing garbage", bytes(f -> Arrays.copyOf(f, f.length + 1000)), "1000 trailing bytes"),
                Arguments.of("header over 100 MB", bytes(f -> {
                    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100_000_001L);
                    return f;
                }), "exceeds the limit"),
                Arguments.of("lying header length", bytes(f -> {
                    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -2L);
                    return f;
                }), "exceeds the limit"),
                Arguments.of("non-UTF-8 header", bytes(f -> {
                    f[20] = (byte) 0xff;
                    return f;
                }), "not valid UTF-8"),
                Arguments.of("malformed JSON", header(h -> h.replaceFirst("\\{\"dtype\"", "{\"dtype\"]")), "not valid JSON"),
                Arguments.of("not an object", header(h -> "[1,2]"), "does not start with '{'"),
                Arguments.of("unknown dtype", header(h -> h.replaceFirst("BF16", "BX16")), "unknown dtype 'BX16'"),
                Arguments.of("newer dtype", header(h -> h.replaceFirst("BF16", "F4")), "dtype F4 is not supported"),
                Arguments.of("shape vs bytes", header(h -> h.replaceFirst("\\[4096,256\\]", "[4096,255]")), "x BF16 is 2088960 bytes but data_offsets span 2097152"),
                Arguments.of("negative dimension", header(h -> h.replaceFirst("\\[4096,256\\]", "[-4096,256]")), "bad dimension"),
                Arguments.of("offsets outside data", header(h -> h.replace("[9834496,9835008]", "[9834496,99835008]")), "outside the data area"),
                Arguments.of("overlapping offsets", header(h -> h.replaceFirst("\\[2097152,4194304\\]", "[2097151,4194303]")), "overlaps tensor 'lm_head.weight'"),
                Arguments.of("gap between tensors", header(h -> h.replaceFirst("\\[0,2097152\\]", "[0,2097150]").replaceFirst("\\[4096,256\\]", "[4096,256]")
                        .replaceFirst("\"shape\":\\[4096,256\\],\"data_offsets\":\\[0,2097150\\]", "\"shape\":[4096,255],\"data_offsets\":[0,2088960]")), "gap of"),
                Arguments.of("duplicate names", header(h -> h.replaceFirst("model.embed_tokens.weight", "lm_head.weight")), "duplicate entry in header: 'lm_head.weight'"),
                Arguments.of("index escapes the folder", index("../model.safetensors"), "outside the model folder"),
                Arguments.of("index absolute path", index("/etc/passwd"), "outside the model folder"),
                Arguments.of("index names a missing shard", index("model-00009-of-00009.safetensors"), "does not exist"),
                Arguments.of("index names a missing tensor", (Case) dir -> {
                    index("model.safetensors").make(dir);
                    Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"nope.weight\":\"model.safetensors\"}}");
                    return dir;
                }, "not found in shard"),
                Arguments.of("index not JSON", (Case) dir -> {
                    index("model.safetensors").make(dir);
                    Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":");
                    return dir;
                }, "not valid JSON"),
                Arguments.of("unknown architecture", config("{\"model_type\":\"mamba\",\"architectures\":[\"MambaForCausalLM\"]}"), "unknown architecture"),
                Arguments.of("config missing a field", config("{\"model_type\":\"llama\"}"), "missing or non-integer 'hidden_size'"),
                Arguments.of("missing path", (Case) dir -> dir.resolve("nothing-here"), "no such file or folder"),
                Arguments.of("folder without weights", (Case) dir -> dir, "no .safetensors files"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inspectGivesOneLineAndExit2(String name, Case c, String expected) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name.replace(' ', '_')));
        Path input = c.make(dir);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"inspect", input.toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
        String msg = err.toString().strip();
        assertEquals(2, code, msg);
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        assertTrue(msg.startsWith("lowbit: "), msg);
        assertTrue(msg.contains(dir.getFileName().toString()), "names the file: " + msg);
        assertTrue(msg.contains(expected), "says '" + expected + "': " + msg);
        assertFalse(msg.contains("Exception"), msg);
        assertEquals("", out.toString());
    }
}
