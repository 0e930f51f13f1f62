package dev.lowbit.validate.generate;

import dev.lowbit.validate.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Turns ids into text as they come: the whole sequence (prompt included, so SentencePiece's leading space and
 * byte-level merges decode as they will in the end) is decoded and only what follows the text already given out is
 * returned. While the text ends in an incomplete UTF-8 sequence (a byte token waiting for the rest of its
 * character, decoded as U+FFFD) nothing is given out; {@link #finish} gives out whatever remains.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private int[] ids;
    private int n, given;

    public TextStream(Tokenizer tokenizer, int[] prompt) {
        this.tokenizer = tokenizer;
        this.ids = Arrays.copyOf(prompt, prompt.length + 16);
        this.n = prompt.length;
        this.given = tokenizer.decode(prompt).length();
    }

    /** The text that id completes, possibly empty. */
    public String push(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, 2 * n);
        ids[n++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, n));
        if (text.endsWith("\uFFFD") || text.length() <= given) return "";
        String out = text.substring(given);
        given = text.length();
        return out;
    }

    /** What is still held back (an incomplete character at the end, as U+FFFD). */
    public String finish() {
        String text = tokenizer.decode(Arrays.copyOf(ids, n));
        if (text.length() <= given) return "";
        String out = text.substring(given);
        given = text.length();
        return out;
    }
}
