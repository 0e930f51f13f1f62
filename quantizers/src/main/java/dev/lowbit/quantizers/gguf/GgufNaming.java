package dev.lowbit.quantizers.gguf;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * gguf-py's naming heuristics (gguf/metadata.py, gguf/utility.py): the {@code general.name}, basename, finetune,
 * version and size label derived from a model id such as the folder name, and the size label from the parameter count.
 */
public final class GgufNaming {
    private GgufNaming() {}

    /** The components of a model id: full name, organization, basename, finetune, version, size label (each may be null). */
    public record Components(String fullName, String org, String basename, String finetune, String version, String sizeLabel) {}

    private static final Pattern VERSION = Pattern.compile("(v|iter)?\\d+([.]\\d+)*", Pattern.CASE_INSENSITIVE);
    private static final Pattern QTYPE = Pattern.compile("i?q\\d(_\\w)*|b?fp?(16|32)", Pattern.CASE_INSENSITIVE);
    private static final Pattern SIZE = Pattern.compile("(([A]|\\d+[x])?\\d+([._]\\d+)?[KMBT][\\d]?|small|mini|medium|large|x?xl)", Pattern.CASE_INSENSITIVE);
    private static final Pattern FINETUNE = Pattern.compile("chat|instruct|vision|lora", Pattern.CASE_INSENSITIVE);
    private static final Pattern TITLE_SKIP = Pattern.compile("^(v\\d+(?:\\.\\d+)*|\\d.*)$");

    /** Metadata.get_model_id_components. */
    public static Components components(String modelId, long totalParams) {
        if (modelId == null) return new Components(null, null, null, null, null, null);
        if (modelId.contains(" ")) return new Components(modelId, null, null, null, null, null);
        String org, full;
        int slash = modelId.indexOf('/');
        if (slash >= 0) {
            org = modelId.substring(0, slash);
            full = modelId.substring(slash + 1);
        } else {
            org = null;
            full = modelId;
        }
        if (org != null && !org.isEmpty() && org.charAt(0) == '.') org = null;
        List<String> parts = new ArrayList<>();
        for (String p : full.split("-", -1)) if (!p.isEmpty()) parts.add(p);
        List<Set<String>> types = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) types.add(new LinkedHashSet<>());
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            Set<String> t = types.get(i);
            if (VERSION.matcher(part).matches()) t.add("version");
            else if (QTYPE.matcher(part).matches()) {
                t.add("type");
                parts.set(i, part.toUpperCase(Locale.ROOT));
            } else if (i > 0 && SIZE.matcher(part).matches()) {
                part = part.replace("_", ".");
                if (Character.isDigit(part.charAt(part.length() - 1)) && part.length() >= 2)
                    part = part.substring(0, part.length() - 2) + "." + part.charAt(part.length() - 1) + part.charAt(part.length() - 2);
                if (part.length() > 1 && Character.isDigit(part.charAt(part.length() - 2)) && "kmbt".indexOf(part.charAt(part.length() - 1)) >= 0)
                    part = part.substring(0, part.length() - 1) + Character.toUpperCase(part.charAt(part.length() - 1));
                if (totalParams != 0) {
                    try {
                        double labelParams = Double.parseDouble(part.substring(0, part.length() - 1))
                                * Math.pow(1000, " KMBT".indexOf(part.charAt(part.length() - 1)));
                        if ((totalParams < 0 && labelParams < Math.floorDiv(Math.abs(totalParams), 8))
                                || (totalParams > 0 && Math.abs(labelParams - totalParams) > Math.floorDiv(7 * totalParams, 8))) {
                            t.add("finetune");
                            part = part.substring(0, part.length() - 1) + Character.toLowerCase(part.charAt(part.length() - 1));
                        }
                    } catch (NumberFormatException e) {
                        // use it anyway
                    }
                }
                if (t.isEmpty()) t.add("size_label");
                parts.set(i, part);
            } else if (i > 0 && FINETUNE.matcher(part).matches()) {
                if (totalParams < 0 && part.equalsIgnoreCase("lora")) t.add("type");
                else t.add("finetune");
            }
        }
        boolean numericSize = false;
        for (int i = 0; i < parts.size(); i++)
            if (types.get(i).contains("size_label") && parts.get(i).chars().anyMatch(Character::isDigit)) numericSize = true;
        if (numericSize)
            for (int i = 0; i < parts.size(); i++)
                if (types.get(i).contains("size_label") && parts.get(i).chars().allMatch(Character::isLetter)) types.get(i).remove("size_label");
        boolean atStart = true;
        for (int i = 0; i < parts.size(); i++) {
            Set<String> t = types.get(i);
            String part = parts.get(i);
            if (atStart && ((t.isEmpty() && Character.isLetter(part.charAt(0))) || t.contains("version"))) t.add("basename");
            else {
                atStart = false;
                if (t.isEmpty()) t.add("finetune");
            }
        }
        for (int i = parts.size() - 1; i >= 0; i--) {
            Set<String> t = types.get(i);
            if (t.contains("basename") && t.size() > 1) t.remove("basename");
            else break;
        }
        String basename = join(parts, types, "basename", false);
        LinkedHashSet<String> sizes = new LinkedHashSet<>();
        for (int i = 0; i < parts.size(); i++) if (types.get(i).contains("size_label")) sizes.add(parts.get(i));
        String sizeLabel = sizes.isEmpty() ? null : String.join("-", sizes);
        String finetune = join(parts, types, "finetune", false);
        String version = join(parts, types, "version", true);
        if (sizeLabel == null && finetune == null && version == null) basename = null;
        return new Components(full, org, basename, finetune, version, sizeLabel);
    }

    private static String join(List<String> parts, List<Set<String>> types, String kind, boolean notBasename) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++)
            if (types.get(i).contains(kind) && !(notBasename && types.get(i).contains("basename"))) l.add(parts.get(i));
        return l.isEmpty() ? null : String.join("-", l);
    }

    /** Metadata.id_to_title: words title-cased unless they are acronyms or version numbers. */
    public static String idToTitle(String s) {
        List<String> out = new ArrayList<>();
        for (String w : s.strip().replace('-', ' ').split("\\s+")) {
            if (w.isEmpty()) continue;
            out.add(isLower(w) && !TITLE_SKIP.matcher(w).find() ? pyTitle(w) : w);
        }
        return String.join(" ", out);
    }

    /** Python's str.islower(): has a cased character and no uppercase one. */
    static boolean isLower(String s) {
        boolean cased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (Character.isUpperCase(c) || Character.isTitleCase(c)) return false;
            if (Character.isLowerCase(c)) cased = true;
            i += Character.charCount(c);
        }
        return cased;
    }

    /** Python's str.title(): a letter after a non-letter is upper-cased, other letters lower-cased. */
    static String pyTitle(String s) {
        StringBuilder b = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (cased) b.appendCodePoint(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            else b.appendCodePoint(c);
            prevCased = cased;
            i += Character.charCount(c);
        }
        return b.toString();
    }

    /** gguf.utility.model_weight_count_rounded_notation with min_digits 2 (the size label of a dense model). */
    public static String sizeLabel(long params) {
        double scaled;
        String suffix;
        if (params > 1e12) {
            scaled = params * 1e-12;
            suffix = "T";
        } else if (params > 1e9) {
            scaled = params * 1e-9;
            suffix = "B";
        } else if (params > 1e6) {
            scaled = params * 1e-6;
            suffix = "M";
        } else {
            scaled = params * 1e-3;
            suffix = "K";
        }
        String rounded = new BigDecimal(Math.rint(scaled)).toBigInteger().toString().replaceFirst("^0+", "");
        int fix = Math.max(2 - rounded.length(), 0);
        return new BigDecimal(scaled).setScale(fix, RoundingMode.HALF_EVEN).toPlainString() + suffix;
    }
}
