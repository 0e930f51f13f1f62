package dev.lowbit.validate.sweep;

import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.quantizers.gguf.GgufFileType;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One row of a sweep: a lowbit scheme (nf4, nf4+dq, fp4, int4, int4-asym, int8, int8-block; bitsandbytes' layout where
 * it has one, as quantize does), a llama.cpp file type written by lowbit (Q4_0, Q4_K_M, IQ4_NL, …), or a GGUF file made
 * elsewhere. "+gptq" after a scheme or type quantizes with GPTQ on the calibration's input statistics.
 */
public record SweepRecipe(String label, Recipe recipe, GgufFileType gguf, Path file, boolean gptq) {

    public static SweepRecipe parse(String spec) {
        String s = spec.trim();
        if (s.isEmpty()) throw new IllegalArgumentException("--schemes: empty scheme name");
        boolean gptq = false, dq = false;
        String base = s;
        for (String mod; base.contains("+"); ) {
            mod = base.substring(base.lastIndexOf('+') + 1).toLowerCase(Locale.ROOT);
            base = base.substring(0, base.lastIndexOf('+'));
            switch (mod) {
                case "gptq" -> gptq = true;
                case "dq" -> dq = true;
                default -> throw new IllegalArgumentException("--schemes " + spec + ": unknown modifier '+" + mod + "' (+dq for nf4/fp4, +gptq)");
            }
        }
        Scheme scheme = null;
        for (Scheme x : Scheme.values()) if (x.cliName().equalsIgnoreCase(base)) scheme = x;
        if (scheme != null) {
            if (scheme.isHalf()) throw new IllegalArgumentException("--schemes " + spec + ": a half-precision copy quantizes nothing to compare");
            if (gptq && scheme == Scheme.INT8)
                throw new IllegalArgumentException("--schemes " + spec + ": GPTQ needs a block format; int8 (LLM.int8 rows) is not one (int8-block is)");
            Layout layout = scheme.hasBnbLayout() ? Layout.HF_BNB : Layout.LOWBIT;
            return new SweepRecipe(s, new Recipe(scheme, layout, 64, dq, List.of(), List.of(), false, null), null, null, gptq);
        }
        if (dq) throw new IllegalArgumentException("--schemes " + spec + ": +dq applies to nf4 and fp4 only");
        GgufFileType ft;
        try {
            ft = GgufFileType.parse(base);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--schemes " + spec + ": not a lowbit scheme (nf4, fp4, int4, int4-asym, int8, int8-block) "
                    + "nor a llama.cpp type (Q4_0, Q4_K_M, IQ4_NL, IQ4_XS, …)");
        }
        if (ft.byConverter()) throw new IllegalArgumentException("--schemes " + spec + ": a float GGUF quantizes nothing to compare");
        return new SweepRecipe(s, null, ft, null, gptq);
    }

    /** A GGUF file made elsewhere (e.g. by llama-quantize), judged as it is. */
    public static SweepRecipe candidate(Path file) {
        return new SweepRecipe(file.getFileName().toString(), null, null, file, false);
    }

    public String kind() {
        return file != null ? "file" : gguf != null ? "gguf" : "lowbit";
    }
}
