package dev.lowbit.validate.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer.json equivalent of a GGUF file's tokenizer metadata, for {@link Tokenizer}: "llama" (SentencePiece-style
 * BPE with byte fallback, Metaspace) and "gpt2" (byte-level BPE with merges, GPT-2 pre-tokenizer).
 *
 * <p>"llama" files carry no merges (llama.cpp merges by token score): they are rebuilt as transformers'
 * SentencePiece converter makes them, every split of a token into two tokens, ranked by the merged token's score
 * (higher first), then its id, then the length and ids of the left piece.
 */
public final class GgufTokenizer {
    private GgufTokenizer() {}

    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** tokenizer.json for this file; a missing or unsupported tokenizer is a FormatException. */
    public static ObjectNode json(GgufFile f) {
        String model = f.string("tokenizer.ggml.model");
        if (model == null) throw new FormatException(f.path(), "no tokenizer in this GGUF file (tokenizer.ggml.model missing)");
        List<?> tokenList = f.array("tokenizer.ggml.tokens", GgufValueType.STRING);
        if (tokenList == null || tokenList.isEmpty()) throw new FormatException(f.path(), "tokenizer.ggml.tokens missing or empty");
        String[] tokens = tokenList.toArray(new String[0]);
        int[] types = new int[tokens.length];
        Arrays.fill(types, NORMAL);
        List<?> t = f.array("tokenizer.ggml.token_type", GgufValueType.INT32, GgufValueType.UINT32, GgufValueType.INT8, GgufValueType.UINT8);
        if (t != null) {
            if (t.size() != tokens.length) throw new FormatException(f.path(), "tokenizer.ggml.token_type has " + t.size() + " entries for " + tokens.length + " tokens");
            for (int i = 0; i < types.length; i++) types[i] = (int) (long) (Long) t.get(i);
        }
        ObjectNode root = F.objectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < tokens.length; i++) {
            if (types[i] == CONTROL || types[i] == USER_DEFINED || types[i] == UNKNOWN)
                added.addObject().put("id", i).put("content", tokens[i]).put("special", types[i] != USER_DEFINED);
        }
        ObjectNode bpe = F.objectNode().put("type", "BPE");
        ObjectNode vocab = bpe.putObject("vocab");
        for (int i = 0; i < tokens.length; i++) if (!vocab.has(tokens[i])) vocab.put(tokens[i], i);
        Integer unk = id(f, "tokenizer.ggml.unknown_token_id", tokens.length);
        switch (model) {
            case "llama" -> {
                boolean prefix = !Boolean.FALSE.equals(f.bool("tokenizer.ggml.add_space_prefix"));
                root.putNull("normalizer");
                root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                        .put("prepend_scheme", prefix ? "first" : "never").put("split", false);
                post(root, f, tokens, true);
                ArrayNode dec = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
                dec.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "\u2581");
                dec.addObject().put("type", "ByteFallback");
                dec.addObject().put("type", "Fuse");
                if (prefix) dec.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
                bpe.put("byte_fallback", true);
                if (unk != null) bpe.put("unk_token", tokens[unk]);
                bpe.set("merges", spmMerges(f, tokens, types));
            }
            case "gpt2" -> {
                String pre = f.string("tokenizer.ggml.pre");
                if (pre != null && !pre.equals("gpt-2") && !pre.equals("default"))
                    throw new FormatException(f.path(), "tokenizer.ggml.pre '" + pre + "' is not supported (lowbit's byte-level BPE splits as GPT-2 does: 'gpt-2')");
                root.putNull("normalizer");
                root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
                post(root, f, tokens, false);
                root.putObject("decoder").put("type", "ByteLevel");
                bpe.put("byte_fallback", false);
                List<?> merges = f.array("tokenizer.ggml.merges", GgufValueType.STRING);
                if (merges == null) throw new FormatException(f.path(), "a gpt2 tokenizer needs tokenizer.ggml.merges");
                ArrayNode m = bpe.putArray("merges");
                for (Object o : merges) {
                    String s = (String) o;
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) throw new FormatException(f.path(), "tokenizer.ggml.merges entry '" + s + "' is not two tokens separated by a space");
                    m.add(s);
                }
            }
            default -> throw new FormatException(f.path(), "tokenizer.ggml.model '" + model + "' is not supported (lowbit reads 'llama' and 'gpt2')");
        }
        root.set("model", bpe);
        return root;
    }

    private static Integer id(GgufFile f, String key, int n) {
        Long v = f.integer(key);
        if (v == null) return null;
        if (v < 0 || v >= n) throw new FormatException(f.path(), key + " " + v + " is outside the " + n + " tokens");
        return v.intValue();
    }

    /** BOS/EOS as the post-processor adds them with special tokens (tokenizer.ggml.add_bos_token / add_eos_token). */
    private static void post(ObjectNode root, GgufFile f, String[] tokens, boolean bosByDefault) {
        Integer bos = id(f, "tokenizer.ggml.bos_token_id", tokens.length), eos = id(f, "tokenizer.ggml.eos_token_id", tokens.length);
        Boolean ab = f.bool("tokenizer.ggml.add_bos_token"), ae = f.bool("tokenizer.ggml.add_eos_token");
        boolean addBos = bos != null && (ab != null ? ab : bosByDefault), addEos = eos != null && ae != null && ae;
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        ObjectNode special = post.putObject("special_tokens");
        if (addBos) {
            single.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 0);
            special.putObject(tokens[bos]).put("id", tokens[bos]).putArray("ids").add(bos);
        }
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        if (addEos) {
            single.addObject().putObject("SpecialToken").put("id", tokens[eos]).put("type_id", 0);
            special.putObject(tokens[eos]).put("id", tokens[eos]).putArray("ids").add(eos);
        }
    }

    private record Merge(int merged, float score, int leftLength, int left, int right) {}

    /** Every split of a normal token into two tokens, ranked as transformers' SentencePiece converter ranks them. */
    static ArrayNode spmMerges(GgufFile f, String[] tokens, int[] types) {
        float[] scores = new float[tokens.length];
        List<?> s = f.array("tokenizer.ggml.scores", GgufValueType.FLOAT32);
        if (s != null) {
            if (s.size() != tokens.length) throw new FormatException(f.path(), "tokenizer.ggml.scores has " + s.size() + " entries for " + tokens.length + " tokens");
            for (int i = 0; i < scores.length; i++) scores[i] = (float) (double) (Double) s.get(i);
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) if (mergeable(types[i])) ids.putIfAbsent(tokens[i], i);
        List<Merge> merges = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if (!mergeable(types[i]) || ids.get(tokens[i]) != i) continue;
            String tok = tokens[i];
            int cps = 0;
            for (int at = tok.offsetByCodePoints(0, 1); at < tok.length(); at = tok.offsetByCodePoints(at, 1)) {
                cps++;
                Integer l = ids.get(tok.substring(0, at)), r = ids.get(tok.substring(at));
                if (l != null && r != null) merges.add(new Merge(i, scores[i], cps, l, r));
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score).thenComparingInt(Merge::merged)
                .thenComparingInt(Merge::leftLength).thenComparingInt(Merge::left).thenComparingInt(Merge::right));
        ArrayNode out = F.arrayNode(merges.size());
        for (Merge m : merges) out.addArray().add(tokens[m.left]).add(tokens[m.right]);
        return out;
    }

    private static boolean mergeable(int type) {
        return type == NORMAL || type == USER_DEFINED;
    }
}
