package dev.lowbit.validate.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private Tokenizer(Path file, JsonNode root) {
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE"))) throw new FormatException(file, "unsupported tokenizer model '" + model.path("type").asText() + "' (lowbit reads BPE)");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().intValue()));
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            else {
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
            }
        }
        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        bpe = new Bpe(vocab, merges, model.path("byte_fallback").asBoolean(false), unk);
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        List<String> addedList = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            addedIds.put(t.get("content").asText(), t.get("id").asInt());
            addedList.add(t.get("content").asText());
            size = Math.max(size, t.get("id").asInt() + 1);
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
        JsonNode dec = root.get("decoder");
        decoders = dec == null || dec.isNull() ? List.of() : dec.path("type").asText().equals("Sequence") ? toList(dec.get("decoders")) : List.of(dec);
        template(root.get("post_processor"));
    }

    /** From a model folder, its tokenizer.json, or a .gguf file (its tokenizer metadata). */
    public static Tokenizer load(Path modelDir) {
        if (dev.lowbit.formats.gguf.GgufFile.isGguf(modelDir) && Files.isRegularFile(modelDir)) {
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                return of(modelDir, GgufTokenizer.json(dev.lowbit.formats.gguf.GgufFile.open(modelDir, arena)));
            }
        }
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("tokenizer.json") : modelDir;
        if (!Files.isRegularFile(file)) throw new FormatException(file, "missing tokenizer.json");
        try {
            return new Tokenizer(file, new ObjectMapper().readTree(file.toFile()));
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

    private static List<JsonNode> toList(JsonNode arr) {
        List<JsonNode> l = new ArrayList<>();
        arr.forEach(l::add);
        return l;
    }

    private static List<Step> normalizer(Path file, JsonNode n) {
        if (n == null || n.isNull()) return List.of();
        List<Step> steps = new ArrayList<>();
        for (JsonNode s : n.path("type").asText().equals("Sequence") ? toList(n.get("normalizers")) : List.of(n)) {
            switch (s.path("type").asText()) {
                case "Prepend" -> {
                    String p = s.get("prepend").asText();
                    steps.add(x -> x.isEmpty() ? x : p + x);
                }
                case "Replace" -> {
                    String from = s.path("pattern").path("String").asText(), to = s.get("content").asText();
                    steps.add(x -> x.replace(from, to));
                }
                case "NFC" -> steps.add(x -> java.text.Normalizer.normalize(x, java.text.Normalizer.Form.NFC));
                default -> throw new FormatException(file, "unsupported normalizer '" + s.path("type").asText() + "'");
            }
        }
        return steps;
    }

    private void template(JsonNode post) {
        if (post == null || !post.path("type").asText().equals("TemplateProcessing")) return;
        List<Integer> target = prefix;
        for (JsonNode item : post.path("single")) {
            if (item.has("Sequence")) target = suffix;
            else if (item.has("SpecialToken")) {
                String id = item.get("SpecialToken").get("id").asText();
                for (JsonNode i : post.path("special_tokens").path(id).path("ids")) target.add(i.asInt());
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
