package dev.lowbit.validate.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.FormatException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The tokenizer.json decoders lowbit supports, each mapping a token list to a token list as HF does. */
final class Decoders {
    private Decoders() {}

    /** Refuses, at load time, a decoder that apply() could not run. */
    static void check(Path file, JsonNode d) {
        switch (d.path("type").asText()) {
            case "ByteLevel", "ByteFallback", "Fuse" -> { }
            case "Replace" -> {
                Tokenizer.stringPattern(file, d, "decoder");
                Tokenizer.text(file, d, "content", "decoder Replace", false);
            }
            case "Strip" -> Tokenizer.text(file, d, "content", "decoder Strip", true);
            case "Metaspace" -> Tokenizer.replacement(file, d, "decoder");
            default -> throw new FormatException(file, "unsupported decoder '" + d.path("type").asText() + "'");
        }
    }

    static List<String> apply(JsonNode d, List<String> tokens) {
        return switch (d.path("type").asText()) {
            case "ByteLevel" -> List.of(ByteLevel.decode(String.join("", tokens)));
            case "Replace" -> {
                String from = d.path("pattern").path("String").asText(), to = d.get("content").asText();
                yield tokens.stream().map(t -> t.replace(from, to)).toList();
            }
            case "ByteFallback" -> byteFallback(tokens);
            case "Fuse" -> List.of(String.join("", tokens));
            case "Strip" -> strip(tokens, d.get("content").asText(), d.path("start").asInt(), d.path("stop").asInt());
            case "Metaspace" -> metaspace(tokens, d.path("replacement").asText("\u2581"), !d.path("prepend_scheme").asText("always").equals("never"));
            default -> throw new IllegalArgumentException("unsupported decoder '" + d.path("type").asText() + "'");
        };
    }

    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>();
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        for (String t : tokens) {
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                try {
                    pending.write(Integer.parseInt(t.substring(3, 5), 16));
                    continue;
                } catch (NumberFormatException ignored) {
                    // not a byte token after all
                }
            }
            flush(pending, out);
            out.add(t);
        }
        flush(pending, out);
        return out;
    }

    private static void flush(ByteArrayOutputStream pending, List<String> out) {
        if (pending.size() == 0) return;
        byte[] b = pending.toByteArray();
        pending.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < b.length; i++) out.add("\uFFFD");
        }
    }

    private static List<String> strip(List<String> tokens, String content, int start, int stop) {
        List<String> out = new ArrayList<>();
        for (String t : tokens) {
            int s = 0, e = t.length();
            for (int i = 0; i < start && t.startsWith(content, s); i++) s += content.length();
            for (int i = 0; i < stop && e - content.length() >= s && t.startsWith(content, e - content.length()); i++) e -= content.length();
            out.add(t.substring(s, e));
        }
        return out;
    }

    private static List<String> metaspace(List<String> tokens, String rep, boolean stripFirst) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).replace(rep, " ");
            if (i == 0 && stripFirst && t.startsWith(" ")) t = t.substring(1);
            out.add(t);
        }
        return out;
    }
}
