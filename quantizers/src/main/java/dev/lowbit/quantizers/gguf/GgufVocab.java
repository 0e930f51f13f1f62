package dev.lowbit.quantizers.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufValueType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The {@code tokenizer.ggml.*} metadata as convert_hf_to_gguf.py writes it from tokenizer.json and
 * tokenizer_config.json: byte-level BPE vocabularies (_set_vocab_gpt2 / get_vocab_base), Llama-style BPE with byte
 * fallback (_set_vocab_llama_hf / gguf.LlamaHfVocab), and gguf.SpecialVocab (merges, special token ids, add_*_token
 * flags, chat template). The pre-tokenizer name, which the converter finds by hashing known models' outputs, is
 * decided from the pre-tokenizer regex.
 */
final class GgufVocab {
    private GgufVocab() {}


    static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    static final String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String BLOOM_REGEX = " ?[^(\\s|[.,!?…。，、।۔،])]+";

    /** The metadata map, with gguf-py's dict semantics: a key set again keeps its place; empty strings and arrays are skipped. */
    static final class Kv {
        final LinkedHashMap<String, GgufValue> map = new LinkedHashMap<>();

        void put(String key, GgufValue v) {
            if (v.type() == GgufValueType.STRING && v.asString().isEmpty()) return;
            if (v.type() == GgufValueType.ARRAY && v.asList().isEmpty()) return;
            map.put(key, v);
        }
    }

    static JsonNode readJson(Path f) {
        try {
            return JsonTree.read(f);
        } catch (IOException e) {
            throw new FormatException(f, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /**
     * Writes the tokenizer metadata for this architecture's converter class. embeddingRows: the rows of the model's
     * token embedding (token_embd.weight), or 0 when it has none; llama.cpp loads a file only when its vocabulary has
     * that many tokens.
     */
    static void write(Path dir, String arch, JsonNode config, long embeddingRows, Kv kv, Consumer<String> warn) {
        Path tj = dir.resolve("tokenizer.json");
        Path tcf = dir.resolve("tokenizer_config.json");
        ObjectNode tcfg = Files.isRegularFile(tcf) && readJson(tcf) instanceof ObjectNode o ? o : null;
        boolean spm = (arch.equals("llama") || arch.equals("qwen2")) && Files.isRegularFile(dir.resolve("tokenizer.model"));
        if (!spm && !Files.isRegularFile(tj))
            throw new FormatException(dir, "no tokenizer.json" + (arch.equals("llama") ? " or tokenizer.model" : "") + ": GGUF needs the vocabulary");
        JsonNode tok = Files.isRegularFile(tj) ? readJson(tj) : JsonNodeFactory.instance.objectNode();
        if (spm) sentencePiece(dir, tok, tcfg, config, kv, warn);
        else if (arch.equals("llama") && isLlamaHf(tok)) llamaHf(dir, tok, tcfg, config, embeddingRows, kv, warn);
        else gpt2(dir, tok, tcfg, config, kv, warn);
        GgufValue written = kv.map.get("tokenizer.ggml.tokens");
        if (embeddingRows > 0 && written != null && written.asList().size() != embeddingRows)
            warn.accept(dir.resolve(spm ? "tokenizer.model" : "tokenizer.json") + ": the vocabulary has " + written.asList().size()
                    + " tokens but the token embedding " + embeddingRows + " rows: llama.cpp refuses such a file (check_tensor_dims)");
        if (arch.equals("llama")) {
            // LlamaModel.set_vocab's extras; add_prefix_space only when it is a bool (transformers 5 writes null)
            if (tcfg != null && tcfg.path("add_prefix_space").isBoolean())
                kv.put("tokenizer.ggml.add_space_prefix", GgufValue.bool(tcfg.get("add_prefix_space").booleanValue()));
            if (config.path("vocab_size").asInt(32000) == 49152) kv.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        }
    }

    /** One piece of a sentencepiece ModelProto: text, score, type (NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6). */
    record Piece(String piece, float score, int type) {}

    /** The pieces of a tokenizer.model (sentencepiece's ModelProto, field 1), read without a protobuf library. */
    static List<Piece> readSentencePiece(Path f) {
        byte[] b;
        try {
            b = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new FormatException(f, "cannot read: " + e.getMessage());
        }
        List<Piece> out = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (in.hasRemaining()) {
                long key = varint(in);
                int field = (int) (key >>> 3), wire = (int) (key & 7);
                if (field == 1 && wire == 2) {
                    int len = (int) varint(in), end = in.position() + len;
                    String piece = "";
                    float score = 0;
                    int type = 1;
                    while (in.position() < end) {
                        long k = varint(in);
                        int pf = (int) (k >>> 3), pw = (int) (k & 7);
                        if (pf == 1 && pw == 2) {
                            int l = (int) varint(in);
                            piece = new String(b, in.position(), l, StandardCharsets.UTF_8);
                            in.position(in.position() + l);
                        } else if (pf == 2 && pw == 5) score = in.getFloat();
                        else if (pf == 3 && pw == 0) type = (int) varint(in);
                        else skip(in, pw);
                    }
                    out.add(new Piece(piece, score, type));
                } else skip(in, wire);
            }
        } catch (RuntimeException e) {
            throw new FormatException(f, "not a sentencepiece model: " + e.getMessage());
        }
        return out;
    }

    private static long varint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = in.get();
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) return v;
        }
        throw new IllegalArgumentException("bad varint");
    }

    private static void skip(ByteBuffer in, int wire) {
        switch (wire) {
            case 0 -> varint(in);
            case 1 -> in.position(in.position() + 8);
            case 2 -> {
                int l = (int) varint(in);
                in.position(in.position() + l);
            }
            case 5 -> in.position(in.position() + 4);
            default -> throw new IllegalArgumentException("unsupported wire type " + wire);
        }
    }

    /** _set_vocab_sentencepiece / _create_vocab_sentencepiece. */
    private static void sentencePiece(Path dir, JsonNode tok, ObjectNode tcfg, JsonNode config, Kv kv, Consumer<String> warn) {
        List<Piece> pieces = readSentencePiece(dir.resolve("tokenizer.model"));
        JsonNode vs = config.hasNonNull("vocab_size_per_layer_input") ? config.get("vocab_size_per_layer_input") : config.get("vocab_size");
        int vocabSize = vs != null && vs.canConvertToInt() && vs.asInt() != 0 ? vs.asInt() : pieces.size();
        List<String> tokens = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        for (int i = 0; i < vocabSize; i++) {
            tokens.add("[PAD" + i + "]");
            scores.add(-10000.0);
            types.add((long) UNUSED);
        }
        for (int id = 0; id < pieces.size(); id++) {
            if (id >= vocabSize) {
                warn.accept("ignore tokens from " + id + ": id is out of range, max=" + (vocabSize - 1));
                break;
            }
            Piece p = pieces.get(id);
            int t = switch (p.type()) {
                case 2 -> 2;
                case 3 -> CONTROL;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> NORMAL;
            };
            tokens.set(id, p.piece());
            scores.set(id, (double) p.score());
            types.set(id, (long) t);
        }
        Path addedFile = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(addedFile)) {
            for (var it = readJson(addedFile).properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                int id = e.getValue().asInt();
                if (id >= vocabSize) {
                    warn.accept("ignore token " + id + ": id is out of range, max=" + (vocabSize - 1));
                    continue;
                }
                tokens.set(id, e.getKey());
                scores.set(id, -1000.0);
                types.set(id, (long) USER_DEFINED);
            }
        }
        if (tcfg != null) {
            for (var it = tcfg.path("added_tokens_decoder").properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                int id = Integer.parseInt(e.getKey());
                String t = e.getValue().path("content").asText();
                if (id >= vocabSize) {
                    warn.accept("ignore token " + id + ": id is out of range, max=" + (vocabSize - 1));
                    continue;
                }
                if (e.getValue().path("special").asBoolean(false) || looksSpecial(t)) types.set(id, (long) CONTROL);
                else {
                    t = t.replace("\u2581", " ");
                    types.set(id, (long) USER_DEFINED);
                }
                scores.set(id, -1000.0);
                tokens.set(id, t);
            }
        }
        kv.put("tokenizer.ggml.model", GgufValue.str("llama"));
        kv.put("tokenizer.ggml.pre", GgufValue.str("default"));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        kv.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        kv.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        specialVocab(dir, tok, tcfg, config, false, tokens.size(), kv, warn);
    }

    /** gguf.LlamaHfVocab's test: BPE with byte fallback and a Sequence decoder (and not Llama 3). */
    static boolean isLlamaHf(JsonNode tok) {
        JsonNode m = tok.path("model");
        boolean llama3 = m.path("type").asText().equals("BPE") && m.path("ignore_merges").asBoolean(false) && !m.path("byte_fallback").asBoolean(true);
        return !llama3 && m.path("type").asText().equals("BPE") && m.path("byte_fallback").asBoolean(false)
                && tok.path("decoder").path("type").asText().equals("Sequence");
    }

    // ------------------------------------------------------------------ vocabularies

    private static Map<Integer, String> reverseVocab(JsonNode tok) {
        Map<Integer, String> rev = new HashMap<>();
        for (var it = tok.path("model").path("vocab").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            rev.put(e.getValue().asInt(), e.getKey());
        }
        for (JsonNode a : tok.path("added_tokens")) rev.put(a.path("id").asInt(), a.path("content").asText());
        return rev;
    }

    /**
     * _set_vocab_llama_hf. Its vocabulary ends with the tokenizer's last token, and a model whose embedding has more
     * rows (a vocab_size padded past the tokenizer) gave a file llama.cpp refuses ("token_embd.weight has wrong shape").
     * Here the ids past the tokenizer get the padding the converter gives a sentencepiece vocabulary of the same model
     * (_create_vocab_sentencepiece: "[PADid]", score -10000, UNUSED), and the file loads.
     */
    private static void llamaHf(Path dir, JsonNode tok, ObjectNode tcfg, JsonNode config, long embeddingRows, Kv kv, Consumer<String> warn) {
        Map<Integer, String> rev = reverseVocab(tok);
        int base = tok.path("model").path("vocab").size();
        Set<Integer> specialIds = specialIds(tok, tcfg, rev);
        List<String> tokens = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        Pattern byteTok = Pattern.compile("<0x[0-9A-Fa-f]{2}>");
        Map<String, Integer> ranks = mergeRanks(dir.resolve("tokenizer.json"), tok);
        for (int id = 0; id < base; id++) {
            String t = rev.get(id);
            if (t == null) throw new FormatException(dir.resolve("tokenizer.json"), "token id " + id + " is missing from the vocabulary");
            tokens.add(t);
            scores.add(score(ranks, t));
            types.add((long) (byteTok.matcher(t).matches() ? BYTE : specialIds.contains(id) ? CONTROL : NORMAL));
        }
        List<Map.Entry<Integer, String>> added = new ArrayList<>();
        for (JsonNode a : tok.path("added_tokens")) if (a.path("id").asInt() >= base) added.add(Map.entry(a.path("id").asInt(), a.path("content").asText()));
        added.sort(Map.Entry.comparingByKey());
        for (var a : added) {
            tokens.add(a.getValue());
            scores.add(-1000.0);
            types.add((long) (specialIds.contains(a.getKey()) ? CONTROL : USER_DEFINED));
        }
        if (embeddingRows > tokens.size()) {
            warn.accept(dir.resolve("tokenizer.json") + ": " + tokens.size() + " tokens for " + embeddingRows + " embedding rows: ids " + tokens.size()
                    + " to " + (embeddingRows - 1) + " written as unused [PADid] tokens, as llama.cpp needs a token per row");
            for (int id = tokens.size(); id < embeddingRows; id++) {
                tokens.add("[PAD" + id + "]");
                scores.add(-10000.0);
                types.add((long) UNUSED);
            }
        }
        kv.put("tokenizer.ggml.model", GgufValue.str("llama"));
        kv.put("tokenizer.ggml.pre", GgufValue.str("default"));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        kv.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        kv.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        specialVocab(dir, tok, tcfg, config, false, tokens.size(), kv, warn);
    }

    /**
     * A token's score for llama.cpp's tokenizer of this vocabulary type (sentencepiece's: of the adjacent pairs whose
     * union is a token, the one whose token has the highest score merges first, the leftmost on ties): −rank of the
     * first merge of tokenizer.json that makes it, so merges happen in the order transformers' BPE applies them; tokens
     * no merge makes score below all. convert_hf_to_gguf.py writes −1000 for every token (LlamaHfVocab.get_token_score,
     * "placeholder"), and llama.cpp then merges leftmost first: on the tiny-llama sample its tokens left transformers'
     * at the 14th token of the eval text and llama-perplexity (ctx 128, 16 chunks) was 118.89; with these scores its
     * 159,744 tokens of the eval text are transformers' and the perplexity 82.35 (transformers: 82.348).
     */
    static double score(Map<String, Integer> ranks, String token) {
        Integer r = ranks.get(token);
        return 0.0 - (r != null ? r : ranks.size() + 1);
    }

    /** Each token a merge of tokenizer.json makes ("a b" or ["a", "b"]), with the rank of the first merge that makes it. */
    private static Map<String, Integer> mergeRanks(Path file, JsonNode tok) {
        Map<String, Integer> ranks = new HashMap<>();
        JsonNode m = tok.path("model").path("merges");
        for (int r = 0; r < m.size(); r++) {
            JsonNode x = m.get(r);
            String t;
            if (x.isTextual() && x.asText().indexOf(' ') > 0) t = x.asText().replaceFirst(" ", "");
            else if (x.isArray() && x.size() == 2) t = x.get(0).asText() + x.get(1).asText();
            else throw new FormatException(file, "merge " + r + " is neither \"a b\" nor [\"a\", \"b\"]: " + x);
            ranks.putIfAbsent(t, r);
        }
        return ranks;
    }

    /** transformers' all_special_ids, from the special tokens tokenizer_config.json names. */
    private static Set<Integer> specialIds(JsonNode tok, ObjectNode tcfg, Map<Integer, String> rev) {
        Map<String, Integer> ids = new HashMap<>();
        rev.forEach((id, t) -> ids.putIfAbsent(t, id));
        Set<Integer> out = new HashSet<>();
        if (tcfg == null) {
            for (JsonNode a : tok.path("added_tokens")) if (a.path("special").asBoolean(false)) out.add(a.path("id").asInt());
            return out;
        }
        for (String k : List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")) {
            String c = content(tcfg.get(k));
            if (c != null && ids.containsKey(c)) out.add(ids.get(c));
        }
        for (String k : List.of("additional_special_tokens", "extra_special_tokens")) {
            JsonNode l = tcfg.get(k);
            if (l == null) continue;
            Iterable<JsonNode> items = l.isObject() ? () -> l.elements() : l;
            for (JsonNode e : items) {
                String c = content(e);
                if (c != null && ids.containsKey(c)) out.add(ids.get(c));
            }
        }
        return out;
    }

    private static String content(JsonNode n) {
        if (n == null) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").textValue();
        return null;
    }

    /** TextModel.does_token_look_special. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>")) || (t.startsWith("<｜") && t.endsWith("｜>"))
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private static void gpt2(Path dir, JsonNode tok, ObjectNode tcfg, JsonNode config, Kv kv, Consumer<String> warn) {
        Map<Integer, String> rev = reverseVocab(tok);
        int maxId = rev.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        int vocabSize = config.path("vocab_size").isIntegralNumber() ? config.path("vocab_size").asInt() : rev.size();
        if (maxId >= vocabSize) throw new FormatException(dir.resolve("tokenizer.json"), "token id " + maxId + " is not below vocab_size " + vocabSize);
        Map<String, JsonNode> added = new HashMap<>();
        Map<Integer, JsonNode> addedById = new HashMap<>();
        for (JsonNode a : tok.path("added_tokens")) {
            added.put(a.path("content").asText(), a);
            addedById.put(a.path("id").asInt(), a);
        }
        List<String> tokens = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        for (int i = 0; i < vocabSize; i++) {
            String t = rev.get(i);
            if (t == null) {
                tokens.add("[PAD" + i + "]");
                types.add((long) UNUSED);
                continue;
            }
            if (added.containsKey(t)) {
                JsonNode a = addedById.getOrDefault(i, added.get(t));
                if (a.path("special").asBoolean(false) || looksSpecial(t)) types.add((long) CONTROL);
                else {
                    t = t.replace("\u2581", " ");
                    types.add((long) USER_DEFINED);
                }
            } else types.add((long) NORMAL);
            tokens.add(t);
        }
        kv.put("tokenizer.ggml.model", GgufValue.str("gpt2"));
        kv.put("tokenizer.ggml.pre", GgufValue.str(preTokenizer(tok, warn)));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        kv.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        specialVocab(dir, tok, tcfg, config, true, null, kv, warn);
    }

    /**
     * tokenizer.ggml.pre from the pre-tokenizer: the GPT-2 ByteLevel regex is "gpt-2", Llama 3's split regex
     * "llama-bpe", Qwen2's "qwen2", BLOOM's "bloom". Anything else falls back (ByteLevel → "gpt-2", else "default")
     * with a warning, never a refusal.
     */
    static String preTokenizer(JsonNode tok, Consumer<String> warn) {
        List<String> regexes = new ArrayList<>();
        boolean[] byteLevel = new boolean[2]; // [any ByteLevel, a ByteLevel applying its own GPT-2 regex]
        collect(tok.path("pre_tokenizer"), regexes, byteLevel);
        if (regexes.isEmpty() && byteLevel[1]) return "gpt-2";
        if (regexes.size() == 1 && !byteLevel[1]) {
            String r = regexes.getFirst();
            if (r.equals(GPT2_REGEX)) return "gpt-2";
            if (r.equals(LLAMA3_REGEX)) return "llama-bpe";
            if (r.equals(QWEN2_REGEX)) return "qwen2";
            if (r.equals(BLOOM_REGEX)) return "bloom";
        }
        String fallback = byteLevel[0] ? "gpt-2" : "default";
        warn.accept("unrecognised pre-tokenizer " + (regexes.isEmpty() ? tok.path("pre_tokenizer").toString() : "regex " + regexes)
                + "; writing tokenizer.ggml.pre = \"" + fallback + "\" (llama.cpp would tokenize with that pre-tokenizer)");
        return fallback;
    }

    private static void collect(JsonNode p, List<String> regexes, boolean[] byteLevel) {
        if (p == null || p.isNull() || p.isMissingNode()) return;
        switch (p.path("type").asText()) {
            case "Sequence" -> {
                for (JsonNode c : p.path("pretokenizers")) collect(c, regexes, byteLevel);
            }
            case "ByteLevel" -> {
                byteLevel[0] = true;
                if (p.path("use_regex").asBoolean(true)) byteLevel[1] = true;
            }
            case "Split" -> {
                JsonNode pat = p.path("pattern");
                regexes.add(pat.has("Regex") ? pat.path("Regex").asText() : Pattern.quote(pat.path("String").asText()));
            }
            default -> regexes.add("<" + p.path("type").asText() + ">");
        }
    }

    // ------------------------------------------------------------------ gguf.SpecialVocab

    private static final List<String> SPECIAL_TYPES = List.of("bos", "eos", "unk", "sep", "pad", "cls", "mask");

    private static void specialVocab(Path dir, JsonNode tok, ObjectNode tcfgIn, JsonNode config, boolean loadMerges, Integer nVocab, Kv kv,
            Consumer<String> warn) {
        List<String> types = new ArrayList<>(SPECIAL_TYPES);
        Map<String, Long> ids = new LinkedHashMap<>();
        Map<String, Boolean> add = new LinkedHashMap<>();
        List<String> merges = new ArrayList<>();
        ObjectNode tcfg = tcfgIn == null ? null : tcfgIn.deepCopy();
        Consumer<Object[]> set = a -> {
            String typ = (String) a[0];
            Object tid = a[1];
            if (!(tid instanceof Number n)) return;
            long v = n.longValue();
            if (v < 0) throw new FormatException(dir, "invalid value for special token type " + typ + ": " + v);
            if (nVocab == null || v < nVocab) {
                ids.putIfAbsent(typ, v);
            } else warn.accept("special token type " + typ + ", id " + v + " out of range, must be under " + nVocab + " - skipping");
        };
        if (loadMerges) {
            JsonNode m = tok.path("model").path("merges");
            if (m.isArray() && !m.isEmpty()) {
                if (m.get(0).isTextual()) for (JsonNode x : m) merges.add(x.asText());
                else if (m.get(0).isArray() && m.get(0).size() == 2) {
                    for (JsonNode x : m) merges.add(x.get(0).asText().replace(" ", "\u0120") + " " + x.get(1).asText().replace(" ", "\u0120"));
                } else throw new FormatException(dir.resolve("tokenizer.json"), "unknown tokenizer merges format");
            }
        }
        JsonNode addedTokens = tok.path("added_tokens");
        boolean hasTcfg = tcfg != null && !tcfg.isEmpty();
        String specialBos = hasTcfg ? text(tcfg.get("bos_token")) : null;
        String specialCls = hasTcfg ? text(tcfg.get("cls_token")) : null;
        String specialEos = hasTcfg ? text(tcfg.get("eos_token")) : null;
        String specialSep = hasTcfg ? text(tcfg.get("sep_token")) : null;
        if (!truthy(specialBos) && truthy(specialCls) && hasTcfg) {
            tcfg.put("bos_token", specialCls);
            specialBos = specialCls;
        }
        if (!truthy(specialEos) && truthy(specialSep) && hasTcfg) {
            tcfg.put("eos_token", specialSep);
            specialEos = specialSep;
        }
        JsonNode post = tok.path("post_processor");
        if (post.isObject() && !post.isEmpty()) {
            List<JsonNode> procs = new ArrayList<>();
            if (post.has("processors")) post.path("processors").forEach(procs::add);
            else procs.add(post);
            for (JsonNode proc : procs) {
                String ptype = proc.path("type").asText();
                if (ptype.equals("RobertaProcessing")) {
                    add.put("bos", true);
                    add.put("eos", true);
                    add.put("sep", true);
                    if (!truthy(specialCls) && hasTcfg) {
                        specialCls = proc.has("cls") ? proc.path("cls").path(0).asText() : specialBos;
                        tcfg.put("cls_token", specialCls);
                    }
                    if (!truthy(specialSep) && hasTcfg) {
                        specialSep = proc.has("sep") ? proc.path("sep").path(0).asText() : specialEos;
                        tcfg.put("sep_token", specialSep);
                    }
                    continue;
                }
                if (!ptype.equals("TemplateProcessing")) continue;
                JsonNode single = proc.path("single"), pair = proc.path("pair");
                String first = null, last = null;
                if (single.size() > 1) {
                    first = single.get(0).path("SpecialToken").path("id").asText(null);
                    if (truthy(first)) {
                        if (!hasTcfg) specialBos = first;
                        add.put("bos", first.equals(specialBos) || first.equals(specialCls));
                        if (!(first.equals(specialBos) || first.equals(specialCls)))
                            warn.accept("unknown leading special token '" + first + "' in TemplateProcessing<single>");
                    }
                    last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                    if (truthy(last)) {
                        if (!hasTcfg) specialEos = last;
                        else if (!last.equals(specialEos)) {
                            if (!types.contains("eot")) {
                                types.add("eot");
                                tcfg.put("eot_token", specialEos);
                            } else if (!types.contains("eom")) {
                                types.add("eom");
                                tcfg.put("eom_token", specialEos);
                            } else warn.accept("overriding EOS token " + specialEos + " with " + last + " without EOT/EOM fallback");
                            tcfg.put("eos_token", last);
                            specialEos = last;
                        }
                        add.put("eos", last.equals(specialEos));
                    }
                }
                if (pair.isArray() && !pair.isEmpty()) {
                    List<JsonNode> p = new ArrayList<>();
                    pair.forEach(p::add);
                    int seqStart = truthy(first) && first.equals(p.getFirst().path("SpecialToken").path("id").asText(null)) ? 1 : 0;
                    int seqStop = truthy(last) && last.equals(p.getLast().path("SpecialToken").path("id").asText(null)) ? p.size() - 1 : p.size();
                    List<JsonNode> tp = seqStart <= seqStop ? p.subList(seqStart, seqStop) : List.of();
                    if (!tp.isEmpty()) {
                        String a = tp.getFirst().path("Sequence").path("id").asText(null);
                        String b = tp.getLast().path("Sequence").path("id").asText(null);
                        if ("A".equals(a) && "B".equals(b) && tp.size() > 2) {
                            List<JsonNode> mid = tp.subList(1, tp.size() - 1);
                            boolean addSep = false;
                            String entry = mid.getFirst().path("SpecialToken").path("id").asText(null);
                            if (truthy(entry) && (entry.equals(specialSep) || entry.equals(specialEos)) && !truthy(last)) addSep = true;
                            if (mid.size() == 2) {
                                String e2 = mid.get(1).path("SpecialToken").path("id").asText(null);
                                if (truthy(e2) && (e2.equals(specialSep) || e2.equals(specialEos))) addSep = true;
                            }
                            add.put("sep", addSep);
                            if (addSep && !truthy(specialSep) && hasTcfg) tcfg.put("sep_token", specialEos);
                        }
                    }
                }
            }
        }
        String chatTemplate = null;
        List<Map<String, String>> namedTemplates = null;
        if (hasTcfg) {
            Path jinja = dir.resolve("chat_template.jinja"), cjson = dir.resolve("chat_template.json");
            JsonNode alt = null;
            try {
                if (Files.isRegularFile(jinja)) alt = JsonNodeFactory.instance.textNode(Files.readString(jinja));
                else if (Files.isRegularFile(cjson)) alt = readJson(cjson).get("chat_template");
            } catch (IOException e) {
                throw new FormatException(jinja, "cannot read: " + e.getMessage());
            }
            JsonNode ct = tcfg.has("chat_template") ? tcfg.get("chat_template") : alt;
            if (ct != null && ct.isTextual()) chatTemplate = ct.textValue();
            else if (ct != null && ct.isArray()) {
                namedTemplates = new ArrayList<>();
                for (JsonNode c : ct) namedTemplates.add(Map.of("name", c.path("name").asText(""), "template", c.path("template").asText()));
            } else if (ct != null && !ct.isNull()) warn.accept("bad type for chat_template in tokenizer_config.json - ignoring");
            for (String typ : types) {
                JsonNode ae = tcfg.get("add_" + typ + "_token");
                if (ae != null && ae.isBoolean()) add.put(typ, ae.booleanValue());
                String c = content(tcfg.get(typ + "_token"));
                if (c == null) continue;
                Long id = null;
                for (JsonNode a : addedTokens) {
                    if (c.equals(a.path("content").asText(null))) {
                        id = a.path("id").isIntegralNumber() ? a.path("id").asLong() : null;
                        break;
                    }
                }
                set.accept(new Object[] {typ, id});
            }
        }
        for (String typ : types) {
            JsonNode v = config.get(typ + "_token_id");
            if ((v == null || v.isNull()) && config.has("text_config")) v = config.path("text_config").get(typ + "_token_id");
            set.accept(new Object[] {typ, v != null && v.isIntegralNumber() ? v.longValue() : null});
        }
        // add_to_gguf
        if (!merges.isEmpty()) kv.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
        else if (loadMerges) warn.accept("adding merges requested but no merges found, output may be non-functional");
        Map<String, String> idKeys = Map.of("bos", "bos_token_id", "eos", "eos_token_id", "unk", "unknown_token_id", "sep", "seperator_token_id",
                "pad", "padding_token_id", "mask", "mask_token_id", "eot", "eot_token_id", "eom", "eom_token_id");
        ids.forEach((typ, id) -> {
            String k = idKeys.get(typ);
            if (k == null) warn.accept("no handler for special token type " + typ + " with id " + id + " - skipping");
            else kv.put("tokenizer.ggml." + k, GgufValue.u32(id));
        });
        Map<String, String> addKeys = Map.of("bos", "add_bos_token", "eos", "add_eos_token", "sep", "add_sep_token");
        add.forEach((typ, v) -> {
            String k = addKeys.get(typ);
            if (k == null) warn.accept("no handler for add_" + typ + "_token with value " + v + " - skipping");
            else kv.put("tokenizer.ggml." + k, GgufValue.bool(v));
        });
        if (chatTemplate != null) kv.put("tokenizer.chat_template", GgufValue.str(chatTemplate));
        if (namedTemplates != null) {
            String def = null;
            Set<String> names = new TreeSet<>();
            for (Map<String, String> c : namedTemplates) {
                String name = c.get("name").replaceAll("[^A-Za-z0-9]", "_");
                if (name.isEmpty()) continue;
                if (name.equals("default")) def = c.get("template");
                else {
                    names.add(name);
                    kv.put("tokenizer.chat_template." + name, GgufValue.str(c.get("template")));
                }
            }
            if (!names.isEmpty()) kv.put("tokenizer.chat_templates", GgufValue.array(GgufValueType.STRING, List.copyOf(names)));
            if (def != null) kv.put("tokenizer.chat_template", GgufValue.str(def));
        }
    }

    private static String text(JsonNode n) {
        return n != null && n.isTextual() ? n.textValue() : n != null && n.isObject() ? content(n) : null;
    }

    private static boolean truthy(String s) {
        return s != null && !s.isEmpty();
    }
}
