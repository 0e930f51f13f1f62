package dev.lowbit.validate.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** GPT-2's byte-level pre-tokenizer: the split regex and the byte <-> printable-unicode map. */
final class ByteLevel {
    static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    static final char[] BYTE_TO_CHAR = new char[256];
    static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        while (m.find()) out.add(m.group());
        return out;
    }

    static String toUnicode(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xff]);
        return sb.toString();
    }

    /** Joined token strings back to text; characters outside the map are kept as their UTF-8. */
    static String decode(String joined) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        joined.codePoints().forEach(cp -> {
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) out.write(CHAR_TO_BYTE[cp]);
            else out.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
        });
        return out.toString(StandardCharsets.UTF_8);
    }
}
