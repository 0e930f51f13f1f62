package dev.lowbit.validate.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each case breaks one thing in a small valid tokenizer.json; loading must end in a FormatException naming the file
 * and the problem, quickly. Before the fixes, "fuzz" cases were found by TokenizerFuzzTest (the exception they
 * raised is in the comment); "review" cases were found while fixing those and would hang or crash the same way.
 */
class TokenizerMalformedTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    /** A SentencePiece-style BPE tokenizer with every part lowbit reads. */
    static ObjectNode valid() throws IOException {
        return (ObjectNode) JSON.readTree("""
                {"added_tokens":[{"id":0,"content":"<unk>"},{"id":1,"content":"<s>"}],
                 "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},
                   {"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
                 "pre_tokenizer":null,
                 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],
                   "special_tokens":{"<s>":{"id":"<s>","ids":[1]}}},
                 "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},
                   {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
                 "model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>",
                   "vocab":{"<unk>":0,"<s>":1,"\u2581":2,"a":3,"b":4,"ab":5,"\u2581ab":6},
                   "merges":["a b",["\u2581","ab"]]}}""");
    }

    static Arguments c(String name, String expected, Consumer<ObjectNode> edit) {
        return Arguments.of(name, expected, edit);
    }

    static ObjectNode model(ObjectNode t) {
        return (ObjectNode) t.get("model");
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // fuzz: IllegalArgumentException: merge '▁▁ ▁▁' uses a token missing from the vocab
                c("merge of unknown tokens", "merge #0 uses 'x', which is not in the vocab", t -> model(t).putArray("merges").add("x y")),
                // fuzz: NullPointerException in Tokenizer.toList (normalizer Sequence without normalizers)
                c("Sequence normalizer without normalizers", "normalizer.normalizers is not an array", t -> ((ObjectNode) t.get("normalizer")).remove("normalizers")),
                // fuzz: NullPointerException (added token without an id)
                c("added token without id", "added token #0 has id null", t -> ((ObjectNode) t.get("added_tokens").get(0)).remove("id")),
                // fuzz: NullPointerException (the file's model had no vocab after mutation, then a later null)
                c("no vocab", "missing model.vocab object", t -> model(t).remove("vocab")),
                // review: merge strings without a space (StringIndexOutOfBoundsException), one-element arrays (NullPointerException)
                c("merge without a space", "merge #0 is neither", t -> model(t).putArray("merges").add("ab")),
                c("merge array of one", "merge #0 is neither", t -> model(t).putArray("merges").addArray().add("a")),
                // review: a vocab id as a string was silently 0; Integer.MAX_VALUE overflowed the table size (ArrayIndexOutOfBoundsException),
                // a billion would have allocated a 4 GB table (OutOfMemoryError)
                c("string id", "vocab entry 'a' has id \"3\"", t -> ((ObjectNode) model(t).get("vocab")).put("a", "3")),
                c("huge id", "added token #0 has id 2147483647", t -> ((ObjectNode) t.get("added_tokens").get(0)).put("id", Integer.MAX_VALUE)),
                c("negative id", "vocab entry 'b' has id -1", t -> ((ObjectNode) model(t).get("vocab")).put("b", -1)),
                // review: an empty added token made encode() loop forever (indexOf("") matches without advancing)
                c("empty added token", "added token #1 has no content", t -> ((ObjectNode) t.get("added_tokens").get(1)).put("content", "")),
                // review: Metaspace with an empty replacement made splitBefore loop forever
                c("empty Metaspace replacement", "pre_tokenizer Metaspace needs a non-empty string 'replacement'",
                        t -> t.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "")),
                // review: Strip with empty content looped `start` (up to 2^31) times per token at decode
                c("empty Strip content", "decoder Strip needs a non-empty string 'content'",
                        t -> ((ObjectNode) t.get("decoder").get("decoders").get(3)).put("content", "").put("start", Integer.MAX_VALUE)),
                // review: unsupported decoders failed only at decode time, with IllegalArgumentException
                c("unknown decoder", "unsupported decoder 'WordPiece'", t -> t.putObject("decoder").put("type", "WordPiece")),
                // review: a Regex Replace pattern was read as "" and inserted the content between every character (wrong ids, no error)
                c("Regex Replace pattern", "normalizer Replace pattern is not {\"String\": ...}",
                        t -> ((ObjectNode) t.get("normalizer").get("normalizers").get(1)).putObject("pattern").put("Regex", "\\s")),
                c("Prepend without prepend", "normalizer Prepend needs a string 'prepend'", t -> ((ObjectNode) t.get("normalizer").get("normalizers").get(0)).remove("prepend")),
                // review: the template's ids were taken as they came (encode gave ids outside the vocab; NullPointerException without an id)
                c("template id outside the vocab", "post_processor special token '<s>' has id 99, which is not a token",
                        t -> ((ObjectNode) t.get("post_processor").get("special_tokens").get("<s>")).putArray("ids").add(99)),
                c("template token not listed", "post_processor special token '<s>' is not in its special_tokens",
                        t -> ((ObjectNode) t.get("post_processor")).putObject("special_tokens")),
                c("template SpecialToken without id", "post_processor SpecialToken needs a string 'id'",
                        t -> ((ObjectNode) t.get("post_processor").get("single").get(0)).putObject("SpecialToken")),
                c("not an object", "not a JSON object", t -> t.removeAll()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithOneLine(String name, String expected, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode t = valid();
        edit.accept(t);
        Path file = tmp.resolve(name.replace(' ', '_') + ".json");
        Files.writeString(file, name.equals("not an object") ? "[1]" : t.toString());
        FormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(FormatException.class, () -> Tokenizer.load(file)));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void theValidOneWorks() throws IOException {
        Path file = tmp.resolve("valid.json");
        Files.writeString(file, valid().toString());
        Tokenizer tok = Tokenizer.load(file);
        int[] ids = tok.encode("ab ab<s>", true);
        assertEquals("[1, 6, 6, 1]", java.util.Arrays.toString(ids));
        assertEquals("<s> ab ab<s>", tok.decode(ids));
    }
}
