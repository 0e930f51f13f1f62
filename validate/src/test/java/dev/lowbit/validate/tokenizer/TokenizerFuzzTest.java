package dev.lowbit.validate.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of the tokenizer: a fuzzed tokenizer.json loads (and then encodes and decodes
 * text without failing) or is a FormatException; the real tokenizers encode and decode any text. Anything else — another
 * exception, a hang, an OutOfMemoryError — is a finding. Regression inputs:
 * src/test/resources/dev/lowbit/validate/tokenizer/TokenizerFuzzTestInputs/{tokenizerJson,encode}.
 */
class TokenizerFuzzTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TEXTS = List.of("Hello world", " leading space,  two  spaces\tand\nnew lines",
            "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \ud83d\ude00 \u0000\u00ff", "<s>special</s> <unk><|endoftext|>", "");

    /** Model folders: the embedded tiny-llama, then ../shared/samples when present. */
    static List<Path> modelDirs() {
        List<Path> dirs = new ArrayList<>(List.of(Samples.tinyLlama()));
        Samples.shared().ifPresentOrElse(shared -> {
            try (Stream<Path> s = Files.list(shared)) {
                s.filter(d -> Files.isRegularFile(d.resolve("tokenizer.json"))).sorted().forEach(dirs::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, () -> System.err.println("tokenizer fuzz seeds: " + Samples.SHARED_MISSING + " (seeding from samples/tiny-llama only)"));
        return dirs;
    }

    static JsonNode readJson(Path f) {
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String label(Path f) {
        Path root = Samples.root();
        return f.startsWith(root) ? root.relativize(f).toString() : f.getParent().getFileName() + "/" + f.getFileName();
    }

    /**
     * The real tokenizer.json with its vocabulary cut to the first 400 ids and the merges that stay within it, so
     * that the fuzzer mutates structure rather than 300 KB of vocabulary.
     */
    static ObjectNode shrink(JsonNode tokenizer) {
        ObjectNode t = tokenizer.deepCopy();
        ObjectNode model = (ObjectNode) t.get("model");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().asInt() < 400) vocab.put(e.getKey(), e.getValue().asInt());
        }
        model.set("vocab", JSON.valueToTree(vocab));
        var merges = model.putArray("merges");
        for (JsonNode m : tokenizer.get("model").get("merges")) {
            String a, b;
            if (m.isArray()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                a = m.asText().substring(0, m.asText().indexOf(' ', 1));
                b = m.asText().substring(m.asText().indexOf(' ', 1) + 1);
            }
            if (vocab.containsKey(a) && vocab.containsKey(b) && vocab.containsKey(a + b)) merges.add(m);
        }
        return t;
    }

    static Stream<Named<byte[]>> tokenizerSeeds() {
        List<Named<byte[]>> seeds = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        try {
            for (Path d : modelDirs()) {
                Path f = d.resolve("tokenizer.json");
                ObjectNode small = shrink(readJson(f));
                if (!seen.add(small.toString())) continue; // tiny-gpt2 and tiny-bloom share theirs
                seeds.add(Named.of(label(f) + " (shrunk)", JSON.writeValueAsBytes(small)));
                if (small.path("pre_tokenizer").path("type").asText().equals("Metaspace")) {
                    // The same vocabulary in the older SentencePiece layout (Llama 2): Prepend + Replace normalizers.
                    ObjectNode old = small.deepCopy();
                    old.putNull("pre_tokenizer");
                    old.set("normalizer", JSON.readTree("{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
                            + "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"},{\"type\":\"NFC\"}]}"));
                    seeds.add(Named.of(label(f) + " (shrunk, Prepend+Replace normalizer)", JSON.writeValueAsBytes(old)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return seeds.stream();
    }

    private static Path scratch;

    static synchronized Path scratch() throws IOException {
        if (scratch == null) {
            scratch = Files.createTempFile("lowbit-fuzz-", "-tokenizer.json");
            scratch.toFile().deleteOnExit();
        }
        return scratch;
    }

    @MethodSource("tokenizerSeeds")
    @DictionaryEntries({"\"type\"", "\"BPE\"", "\"ByteLevel\"", "\"Metaspace\"", "\"Sequence\"", "\"Prepend\"", "\"Replace\"",
            "\"NFC\"", "\"ByteFallback\"", "\"Fuse\"", "\"Strip\"", "\"TemplateProcessing\"", "\"SpecialToken\"", "\"special_tokens\"",
            "\"added_tokens\"", "\"content\"", "\"id\"", "\"ids\"", "\"vocab\"", "\"merges\"", "\"unk_token\"", "\"byte_fallback\"",
            "\"normalizers\"", "\"decoders\"", "\"prepend_scheme\"", "\"replacement\"", "\"split\"", "\"use_regex\"",
            "\"add_prefix_space\"", "\"\"", "null", "[]", "{}", "-1", "2147483647", "1e10", "\"<0x41>\""})
    @FuzzTest(maxDuration = "15s")
    void tokenizerJson(byte[] input) throws IOException {
        Path file = scratch();
        Files.write(file, input);
        Tokenizer tok;
        try {
            tok = Tokenizer.load(file);
        } catch (FormatException e) {
            String m = e.getMessage();
            assertTrue(m.startsWith(file + ": "), m);
            assertEquals(1, m.lines().count(), m);
            return;
        }
        for (String text : TEXTS) check(tok, text);
    }

    /** Encoding never fails, gives ids of the vocabulary, and decoding them never fails. */
    static void check(Tokenizer tok, String text) {
        for (boolean special : new boolean[] {false, true}) {
            int[] ids = tok.encode(text, special);
            for (int id : ids) assertNotNull(tok.token(id), "id " + id + " of " + text);
            assertNotNull(tok.decode(ids));
        }
    }

    // ---- encoding arbitrary text with the real tokenizers ----

    /** A real tokenizer; byte-level ones (GPT-2, BLOOM) decode every encoded text back exactly. */
    record Loaded(Tokenizer tok, boolean byteLevel) {}

    private static List<Loaded> tokenizers;

    static synchronized List<Loaded> tokenizers() {
        if (tokenizers == null) {
            List<Loaded> l = new ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Path d : modelDirs()) {
                try {
                    if (!seen.add(Files.readString(d.resolve("tokenizer.json")))) continue;
                    JsonNode json = readJson(d.resolve("tokenizer.json"));
                    boolean byteLevel = json.path("pre_tokenizer").path("type").asText().equals("ByteLevel")
                            && json.path("decoder").path("type").asText().equals("ByteLevel") && json.path("normalizer").isNull();
                    l.add(new Loaded(Tokenizer.load(d), byteLevel));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            tokenizers = l;
        }
        return tokenizers;
    }

    /** First byte: which tokenizer (bits 0-6) and whether the rest is UTF-16 (bit 7, which reaches lone surrogates) or UTF-8. */
    static Stream<Named<byte[]>> textSeeds() {
        List<Named<byte[]>> seeds = new ArrayList<>();
        for (Path d : modelDirs()) {
            Path ref = d.resolve("reference/tokenization.json");
            if (!Files.isRegularFile(ref)) continue;
            int i = 0;
            for (JsonNode c : readJson(ref)) {
                byte[] text = c.get("text").asText().getBytes(StandardCharsets.UTF_8);
                for (int k = 0; k < tokenizers().size(); k++) {
                    byte[] in = new byte[text.length + 1];
                    in[0] = (byte) k;
                    System.arraycopy(text, 0, in, 1, text.length);
                    seeds.add(Named.of(label(ref) + " #" + i + " with tokenizer " + k, in));
                }
                i++;
            }
        }
        // Real running text (also sets the fuzzer's input length limit to a few KB).
        try {
            byte[] text = java.util.Arrays.copyOf(Files.readAllBytes(Samples.evalTextHead()), 3000);
            for (int k = 0; k < tokenizers().size(); k++) {
                byte[] in = new byte[text.length + 1];
                in[0] = (byte) k;
                System.arraycopy(text, 0, in, 1, text.length);
                seeds.add(Named.of("samples/eval_text_head.txt (3000 bytes) with tokenizer " + k, in));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return seeds.stream();
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return true;
        }
        return false;
    }

    @MethodSource("textSeeds")
    @FuzzTest(maxDuration = "15s")
    void encode(byte[] input) {
        if (input.length == 0) return;
        List<Loaded> toks = tokenizers();
        Loaded tok = toks.get((input[0] & 0x7f) % toks.size());
        String text = new String(input, 1, input.length - 1, (input[0] & 0x80) != 0 ? StandardCharsets.UTF_16LE : StandardCharsets.UTF_8);
        check(tok.tok(), text);
        if (tok.byteLevel() && !hasLoneSurrogate(text)) assertEquals(text, tok.tok().decode(tok.tok().encode(text, false)), "byte-level round trip");
    }
}
