package dev.lowbit.quantizers.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.quantizers.gguf.ConverterScores;
import dev.lowbit.quantizers.gguf.GgufExport;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.samples.Samples;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GGUF export of tiny-llama with an importance matrix against llama-quantize --imatrix given the same matrix (made by
 * llama-imatrix; resources calib/, command in imatrix-quantize-refs.json): every tensor byte for byte (sha256).
 */
class ImatrixQuantizeTest {
    static Path resource(String name) throws URISyntaxException {
        return Path.of(ImatrixQuantizeTest.class.getResource("/calib/" + name).toURI());
    }

    @ParameterizedTest
    @ValueSource(strings = {"IQ4_NL", "IQ4_XS", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q6_K", "Q4_K_S", "Q4_K_M", "Q5_K_M", "Q3_K_M", "Q2_K"})
    void tensorsAreLlamaQuantizes(String ft, @TempDir Path tmp) throws Exception {
        Path model = Samples.requireShared("tiny-llama");
        JsonNode want;
        try (InputStream in = getClass().getResourceAsStream("/calib/imatrix-quantize-refs.json")) {
            want = new ObjectMapper().readTree(in).path("files").path(ft);
        }
        Imatrix m = ImatrixFile.read(resource("tiny-llama-imatrix.gguf"));
        Path out = tmp.resolve("out.gguf");
        GgufExport.run(model, out, GgufFileType.parse(ft), false, null, new Weighting(m, false));
        List<String> wrong = new ArrayList<>();
        int weighted = 0;
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(out, arena);
            assertEquals(want.size(), f.tensors().size());
            for (GgufTensor t : f.tensors()) {
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(t.data().toArray(ValueLayout.JAVA_BYTE)));
                JsonNode w = want.path(t.name());
                assertEquals(w.path("type").asText(), t.typeName(), t.name());
                if (!w.path("sha256").asText().equals(sha)) wrong.add(t.name() + " (" + t.typeName() + ")");
                if (m.importance(t.name()) != null) weighted++;
            }
        }
        assertEquals(28, weighted);
        assertTrue(wrong.isEmpty(), "tensors differing from llama-quantize --imatrix: " + wrong);
    }

    /**
     * The whole file, header included, against llama-quantize's: it records the importance matrix as
     * quantize.imatrix.file (the name given on the command line), .dataset, .entries_count and .chunks_count. Expected
     * sha256 from llama.cpp d32676d77, in the folder holding both files:
     * {@code llama-quantize --imatrix tiny-llama-imatrix.gguf tiny-llama-F32.gguf OUT.gguf TYPE 2}; its keys read
     * "tiny-llama-imatrix.gguf", "/work/shared/samples/calib_text.txt", 28 and 82.
     */
    @ParameterizedTest
    @CsvSource({"Q4_K_M, 9e5f783d67d1973c3c6b3cacef688c6ad25477f8141c3ac0f19a6fd7e996976f",
            "IQ4_NL, b9d9959d6fc89b7fac0f269a167254f8ee7d61152a952f73c6df6b8f3ac79603",
            "Q4_0, 062776b2634294cc64c4e49d2980fa28b456f9e1e99c8cb7829079236644f0b8"})
    void filesAreLlamaQuantizesByteForByte(String ft, String sha256, @TempDir Path tmp) throws Exception {
        Path model = Samples.requireShared("tiny-llama");
        Imatrix m = ImatrixFile.read(resource("tiny-llama-imatrix.gguf"));
        Path out = tmp.resolve("out.gguf");
        GgufExport.run(model, out, GgufFileType.parse(ft), false, null, new Weighting(m, false, "tiny-llama-imatrix.gguf"));
        byte[] file = ConverterScores.of(Files.readAllBytes(out)); // lowbit's merge-rank scores aside, llama.cpp's bytes
        assertEquals(sha256, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)));
    }
}
