package dev.lowbit.cli;

import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** What quantize and convert quantize, and how. */
final class RecipeOptions {
    @Option(names = "--scheme", required = true, paramLabel = "S", completionCandidates = Candidates.Schemes.class,
            description = "fp16, bf16, int8 (LLM.int8 rows), int8-block (Q8_0), int4, int4-asym (groups), nf4, fp4 (bitsandbytes); for GGUF output "
                    + "llama.cpp's file types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M, Q6_K (any case).")
    String scheme;

    @Option(names = "--layout", paramLabel = "L", completionCandidates = Candidates.Layouts.class, description = "hf-bnb (what transformers + bitsandbytes load; the default for nf4, fp4, int8) or lowbit "
            + "(lowbit's own, for every scheme; the default for the others; transformers refuses it).")
    String layout;

    @Option(names = "--block", paramLabel = "N", description = "Block size (nf4/fp4, default 64) or group size (int4, default 64).")
    Integer block;

    @Option(names = "--double-quant", description = "Quantize the nf4/fp4 block scales too (QLoRA).")
    boolean doubleQuant;

    @Option(names = "--keep", paramLabel = "GLOB", description = "Keep matching tensors as they are (repeatable).")
    List<String> keep = new ArrayList<>();

    @Option(names = "--only", paramLabel = "GLOB", description = "Quantize only matching tensors (repeatable).")
    List<String> only = new ArrayList<>();

    @Option(names = "--lm-head", description = "Quantize lm_head too (kept by default).")
    boolean lmHead;

    @Option(names = "--compute-dtype", paramLabel = "D", completionCandidates = Candidates.ComputeDtypes.class,
            description = "bnb_4bit_compute_dtype of hf-bnb nf4/fp4: float16, bfloat16 or float32 (default float32, as BitsAndBytesConfig).")
    String computeDtype;

    /** The options given that mean nothing for a GGUF file (its recipes are llama.cpp's). */
    List<String> givenButNotForGguf() {
        List<String> l = new ArrayList<>();
        if (layout != null) l.add("--layout");
        if (block != null) l.add("--block");
        if (doubleQuant) l.add("--double-quant");
        if (!keep.isEmpty()) l.add("--keep");
        if (!only.isEmpty()) l.add("--only");
        if (lmHead) l.add("--lm-head");
        if (computeDtype != null) l.add("--compute-dtype");
        return l;
    }

    Recipe recipe() {
        Scheme s = Scheme.parse(scheme);
        RecipeChecks.check(this, s);
        Layout l = layout != null ? Layout.parse(layout) : s.hasBnbLayout() ? Layout.HF_BNB : Layout.LOWBIT;
        return new Recipe(s, l, block != null ? block : 64, doubleQuant, keep, only, lmHead, computeDtype);
    }
}
