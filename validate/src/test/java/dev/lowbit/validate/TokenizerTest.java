package dev.lowbit.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    @ParameterizedTest
    @MethodSource("dev.lowbit.validate.SampleModels#all")
    void trickyStringsMatchTransformers(String model) throws Exception {
        Path dir = SampleModels.dir(model);
        Tokenizer tok = Tokenizer.load(dir);
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("reference/tokenization.json").toFile());
        assertTrue(cases.size() > 5);
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            assertArrayEquals(ints(c.get("ids")), tok.encode(text, false), "ids of " + text);
            assertArrayEquals(ints(c.get("ids_with_special")), tok.encode(text, true), "ids with special of " + text);
            assertEquals(c.get("decoded").asText(), tok.decode(ints(c.get("ids"))), "decode of " + text);
        }
    }

    /** The shared models only: the embedded one has a slice of the text, checked by embeddedEvalSliceMatchesItsReferencePrefix. */
    @ParameterizedTest
    @MethodSource("dev.lowbit.validate.SampleModels#shared")
    void evalTextMatchesTokenForToken(String model) throws Exception {
        Path dir = SampleModels.dir(model);
        int[] expected = TokenIds.read(dir.resolve("reference/eval_token_ids.i32"));
        int[] got = Tokenizer.load(dir).encode(Files.readString(SampleModels.sharedEvalText()), false);
        assertEquals(expected.length, got.length, "token count");
        assertEquals(-1, Arrays.mismatch(expected, got), "first differing token");
    }

    /** The embedded text slice was cut at a line end: all but the last few tokens must match the reference prefix. */
    @Test
    void embeddedEvalSliceMatchesItsReferencePrefix() throws Exception {
        int[] expected = TokenIds.read(Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32"));
        int[] got = Tokenizer.load(Samples.tinyLlama()).encode(Files.readString(Samples.evalTextHead()), false);
        assertTrue(got.length > 13000 && got.length < expected.length, "slice length " + got.length);
        int mismatch = Arrays.mismatch(expected, got);
        assertTrue(mismatch >= got.length - 3, "tokens differ at " + mismatch + " of " + got.length);
    }
}
