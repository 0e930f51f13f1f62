package dev.lowbit.validate;

import dev.lowbit.validate.generate.GenerationConfig;
import dev.lowbit.validate.generate.Generator;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * "Does it still say the same thing?": the greedy continuation of a few prompts by the base and by the candidate,
 * side by side, with the number of leading generated tokens on which they agree (the position of the first differing
 * token, or all of them when identical) and its mean over the prompts.
 */
public record Continuations(int newTokens, double meanFirstDiff, int identical, List<Item> prompts) {
    /** agree = generated tokens equal before the first difference (= the shorter length when one is a prefix of the other). */
    public record Item(String prompt, int[] promptIds, int[] baseIds, int[] candidateIds, String baseText, String candidateText,
                       int agree, boolean same, String commonText, String baseRest, String candidateRest) {}

    /** What to continue: prompts (text), each cut to maxPromptTokens tokens, and newTokens greedy tokens; none = off. */
    public record Request(List<String> prompts, int maxPromptTokens, int newTokens) {
        public static final int DEFAULT_PROMPTS = 4, DEFAULT_PROMPT_TOKENS = 32, DEFAULT_NEW_TOKENS = 32;

        public static Request none() {
            return new Request(List.of(), DEFAULT_PROMPT_TOKENS, 0);
        }

        public boolean off() {
            return prompts.isEmpty() || newTokens == 0;
        }

        /** The first `count` non-blank lines of a text, stripped: the default prompts from the eval text. */
        public static List<String> firstLines(String text, int count) {
            return text.lines().map(String::strip).filter(l -> !l.isEmpty()).limit(count).toList();
        }
    }

    /** Greedy continuations (plain argmax, the base's EOS ids) of both models, over their KV caches. */
    static Continuations run(Path baseDir, Transformer base, Transformer cand, Tokenizer tok, Request r) {
        List<Item> items = new ArrayList<>();
        double sum = 0;
        int identical = 0;
        for (String p : r.prompts()) {
            int[] ids = tok.encode(p, true), plain = tok.encode(p, false);
            if (ids.length == 0) continue;
            String shown = p;
            if (ids.length > r.maxPromptTokens()) {
                ids = Arrays.copyOf(ids, r.maxPromptTokens());
                int specials = tok.encode(p, true).length - plain.length;
                shown = tok.decode(Arrays.copyOf(plain, Math.max(0, r.maxPromptTokens() - specials))).strip() + "…";
            }
            GenerationConfig cfg = GenerationConfig.defaults().withEos(GenerationConfig.of(baseDir, ids.length).eosIds()).withMaxNewTokens(r.newTokens());
            int[] b = new Generator(base, cfg, true).generate(ids, x -> {}).generated();
            int[] c = new Generator(cand, cfg, true).generate(ids, x -> {}).generated();
            int agree = 0;
            while (agree < Math.min(b.length, c.length) && b[agree] == c[agree]) agree++;
            boolean same = Arrays.equals(b, c);
            if (same) identical++;
            sum += agree;
            String common = text(tok, ids, b, agree);
            items.add(new Item(shown, ids, b, c, text(tok, ids, b, b.length), text(tok, ids, c, c.length), agree, same, common,
                    rest(text(tok, ids, b, b.length), common), rest(text(tok, ids, c, c.length), common)));
        }
        return new Continuations(r.newTokens(), items.isEmpty() ? Double.NaN : sum / items.size(), identical, items);
    }

    /** The text of gen[0, n) as it reads after the prompt. */
    private static String text(Tokenizer tok, int[] prompt, int[] gen, int n) {
        int[] all = Arrays.copyOf(prompt, prompt.length + n);
        System.arraycopy(gen, 0, all, prompt.length, n);
        String p = tok.decode(prompt), t = tok.decode(all);
        return t.startsWith(p) ? t.substring(p.length()) : t;
    }

    private static String rest(String full, String common) {
        return full.startsWith(common) ? full.substring(common.length()) : full;
    }
}
