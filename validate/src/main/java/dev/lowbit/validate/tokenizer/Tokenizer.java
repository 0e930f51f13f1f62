package dev.lowbit.validate.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * tokenizer.json encode/decode as HF tokenizers does it for byte-level BPE (GPT-2, BLOOM) and SentencePiece-style
 * BPE (Metaspace or Prepend+Replace normalisation, byte fallback), with added/special tokens.
 */
public final class Tokenizer {
    private final Bpe bpe;
    private final String[] idToToken;
    private final List<String> added; // longest first, so that the leftmost-longest match wins
    private final Map<String, Integer> addedIds = new HashMap<>();
    private final List<Step> normalizer;
    private final JsonNode preTokenizer;
    private final List<JsonNode> decoders;
    private final List<Integer> prefix = new ArrayList<>(), suffix = new ArrayList<>();

    private interface Step {
        String apply(String s);
    }

    /** Token ids beyond this are refused: they would size the id table (real vocabularies stay far below). */
    static final int MAX_ID = (1 << 24) - 1;

    private Tokenizer(Path file, JsonNode root) {
        if (root == null || !root.isObject()) throw new FormatException(file, "not a JSON object");
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE"))) throw new FormatException(file, "unsupported tokenizer model '" + model.path("type").asText() + "' (lowbit reads BPE)");
        if (!model.path("vocab").isObject()) throw new FormatException(file, "missing model.vocab object");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), id(file, e.getValue(), "vocab entry '" + e.getKey() + "'")));
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : array(file, model.path("merges"), "model.merges")) {
            String[] pair;
            if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) pair = new String[] {m.get(0).textValue(), m.get(1).textValue()};
            else if (m.isTextual() && m.textValue().indexOf(' ', 1) > 0) {
                String t = m.textValue();
                int sp = t.indexOf(' ', 1);
                pair = new String[] {t.substring(0, sp), t.substring(sp + 1)};
            } else throw new FormatException(file, "merge #" + merges.size() + " is neither \"a b\" nor [\"a\", \"b\"]: " + abbreviate(m));
            for (String t : new String[] {pair[0], pair[1], pair[0] + pair[1]})
                if (!vocab.containsKey(t)) throw new FormatException(file, "merge #" + merges.size() + " uses '" + t + "', which is not in the vocab");
            merges.add(pair);
        }
        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        bpe = new Bpe(vocab, merges, model.path("byte_fallback").asBoolean(false), unk);
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        List<String> addedList = new ArrayList<>();
        for (JsonNode t : array(file, root.path("added_tokens"), "added_tokens")) {
            String what = "added token #" + addedList.size();
            if (!t.path("content").isTextual() || t.get("content").textValue().isEmpty()) throw new FormatException(file, what + " has no content");
            int id = id(file, t.get("id"), what);
            addedIds.put(t.get("content").textValue(), id);
            addedList.add(t.get("content").textValue());
            size = Math.max(size, id + 1);
        }
        addedList.sort(Comparator.comparingInt(String::length).reversed());
        added = addedList;
        idToToken = new String[size];
        vocab.forEach((k, v) -> idToToken[v] = k);
        addedIds.forEach((k, v) -> idToToken[v] = k);
        normalizer = normalizer(file, root.get("normalizer"));
        preTokenizer = root.get("pre_tokenizer");
        String pre = preTokenizer == null || preTokenizer.isNull() ? "none" : preTokenizer.path("type").asText();
        if (!pre.equals("none") && !pre.equals("ByteLevel") && !pre.equals("Metaspace"))
            throw new FormatException(file, "unsupported pre_tokenizer '" + pre + "'");
        if (pre.equals("Metaspace")) replacement(file, preTokenizer, "pre_tokenizer");
        JsonNode dec = root.get("decoder");
        decoders = dec == null || dec.isNull() ? List.of() : dec.path("type").asText().equals("Sequence") ? toList(file, dec.get("decoders"), "decoder.decoders") : List.of(dec);
        for (JsonNode d : decoders) Decoders.check(file, d);
        template(file, root.get("post_processor"));
    }

    /** A token id: an integer in 0..MAX_ID. */
    private static int id(Path file, JsonNode v, String what) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() > MAX_ID)
            throw new FormatException(file, what + " has id " + abbreviate(v) + "; ids are integers in 0.." + MAX_ID);
        return v.intValue();
    }

    /** An array, or nothing when absent or null. */
    private static JsonNode array(Path file, JsonNode n, String what) {
        if (n.isMissingNode() || n.isNull()) return MissingNode.getInstance();
        if (!n.isArray()) throw new FormatException(file, what + " is not an array");
        return n;
    }

    /** A string field that must be present (empty allowed unless nonEmpty). */
    static String text(Path file, JsonNode n, String key, String what, boolean nonEmpty) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual() || (nonEmpty && v.textValue().isEmpty())) throw new FormatException(file, what + " needs a " + (nonEmpty ? "non-empty " : "") + "string '" + key + "'");
        return v.textValue();
    }

    /** Metaspace's replacement character (default ▁): a non-empty string. */
    static String replacement(Path file, JsonNode n, String what) {
        return n.has("replacement") ? text(file, n, "replacement", what + " Metaspace", true) : "\u2581";
    }

    /** Replace's pattern: lowbit reads the literal {"String": ...} form. */
    static String stringPattern(Path file, JsonNode n, String what) {
        if (!n.path("pattern").path("String").isTextual()) throw new FormatException(file, what + " Replace pattern is not {\"String\": ...} (lowbit does not read Regex patterns)");
        return n.get("pattern").get("String").textValue();
    }

    static String abbreviate(JsonNode n) {
        String s = String.valueOf(n);
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    /** From a model folder, its tokenizer.json, or a .gguf file (its tokenizer metadata). */
    public static Tokenizer load(Path modelDir) {
        if (GgufFile.isGguf(modelDir) && Files.isRegularFile(modelDir)) {
            try (Arena arena = Arena.ofConfined()) {
                return of(modelDir, GgufTokenizer.json(GgufFile.open(modelDir, arena)));
            }
        }
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("tokenizer.json") : modelDir;
        if (!Files.isRegularFile(file)) throw new FormatException(file, "missing tokenizer.json");
        try {
            return new Tokenizer(file, JsonTree.read(file));
        } catch (IOException e) {
            throw new FormatException(file, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /** From a parsed tokenizer.json (file names it in errors). */
    public static Tokenizer of(Path file, JsonNode root) {
        try {
            return new Tokenizer(file, root);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "tokenizer: " + e.getMessage());
        }
    }

    private static List<JsonNode> toList(Path file, JsonNode arr, String what) {
        if (arr == null || !arr.isArray()) throw new FormatException(file, what + " is not an array");
        List<JsonNode> l = new ArrayList<>();
        arr.forEach(l::add);
        return l;
    }

    private static List<Step> normalizer(Path file, JsonNode n) {
        if (n == null || n.isNull()) return List.of();
        List<Step> steps = new ArrayList<>();
        for (JsonNode s : n.path("type").asText().equals("Sequence") ? toList(file, n.get("normalizers"), "normalizer.normalizers") : List.of(n)) {
            switch (s.path("type").asText()) {
                case "Prepend" -> {
                    String p = text(file, s, "prepend", "normalizer Prepend", false);
                    steps.add(x -> x.isEmpty() ? x : p + x);
                }
                case "Replace" -> {
                    String from = stringPattern(file, s, "normalizer"), to = text(file, s, "content", "normalizer Replace", false);
                    steps.add(x -> x.replace(from, to));
                }
                case "NFC" -> steps.add(x -> Normalizer.normalize(x, Normalizer.Form.NFC));
                default -> throw new FormatException(file, "unsupported normalizer '" + s.path("type").asText() + "'");
            }
        }
        return steps;
    }

    private void template(Path file, JsonNode post) {
        if (post == null || !post.path("type").asText().equals("TemplateProcessing")) return;
        List<Integer> target = prefix;
        for (JsonNode item : array(file, post.path("single"), "post_processor.single")) {
            if (item.has("Sequence")) target = suffix;
            else if (item.has("SpecialToken")) {
                String id = text(file, item.get("SpecialToken"), "id", "post_processor SpecialToken", false);
                if (!post.path("special_tokens").has(id)) throw new FormatException(file, "post_processor special token '" + id + "' is not in its special_tokens");
                for (JsonNode i : array(file, post.path("special_tokens").path(id).path("ids"), "post_processor special token '" + id + "' ids")) {
                    int v = id(file, i, "post_processor special token '" + id + "'");
                    if (v >= idToToken.length || idToToken[v] == null) throw new FormatException(file, "post_processor special token '" + id + "' has id " + v + ", which is not a token");
                    target.add(v);
                }
            }
        }
    }

    public int vocabSize() {
        return idToToken.length;
    }

    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /** Encodes text; withSpecial adds the post-processor's special tokens (e.g. BOS). */
    public int[] encode(String text, boolean withSpecial) {
        List<Integer> ids = new ArrayList<>();
        if (withSpecial) ids.addAll(prefix);
        int start = 0;
        while (start <= text.length()) {
            int best = -1;
            String match = null;
            for (String a : added) {
                int i = text.indexOf(a, start);
                if (i >= 0 && (best < 0 || i < best)) {
                    best = i;
                    match = a;
                }
            }
            int end = best < 0 ? text.length() : best;
            if (end > start) encodeSection(text.substring(start, end), start == 0, ids);
            if (match == null) break;
            ids.add(addedIds.get(match));
            start = best + match.length();
        }
        if (withSpecial) ids.addAll(suffix);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private void encodeSection(String text, boolean atStart, List<Integer> out) {
        for (Step s : normalizer) text = s.apply(text);
        String type = preTokenizer == null || preTokenizer.isNull() ? "none" : preTokenizer.path("type").asText();
        switch (type) {
            case "ByteLevel" -> {
                if (preTokenizer.path("add_prefix_space").asBoolean(false) && !text.startsWith(" ")) text = " " + text;
                List<String> words = preTokenizer.path("use_regex").asBoolean(true) ? ByteLevel.split(text) : List.of(text);
                for (String w : words) bpe.encode(ByteLevel.toUnicode(w), out);
            }
            case "Metaspace" -> {
                String rep = preTokenizer.path("replacement").asText("\u2581");
                text = text.replace(" ", rep);
                String scheme = preTokenizer.path("prepend_scheme").asText("always");
                if (!text.startsWith(rep) && (scheme.equals("always") || (scheme.equals("first") && atStart))) text = rep + text;
                if (preTokenizer.path("split").asBoolean(true)) {
                    for (String w : splitBefore(text, rep)) bpe.encode(w, out);
                } else bpe.encode(text, out);
            }
            default -> bpe.encode(text, out);
        }
    }

    /** Splits so that each piece starts at a replacement character (MergedWithNext). */
    private static List<String> splitBefore(String text, String rep) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = text.indexOf(rep, 1); i >= 0; i = text.indexOf(rep, i + 1)) {
            out.add(text.substring(from, i));
            from = i;
        }
        if (from < text.length()) out.add(text.substring(from));
        return out;
    }

    /** Decodes ids (special tokens included) through the tokenizer.json decoder chain. */
    public String decode(int[] ids) {
        List<String> tokens = new ArrayList<>();
        for (int id : ids) {
            String t = token(id);
            if (t != null) tokens.add(t);
        }
        for (JsonNode d : decoders) tokens = Decoders.apply(d, tokens);
        return String.join("", tokens);
    }
}
