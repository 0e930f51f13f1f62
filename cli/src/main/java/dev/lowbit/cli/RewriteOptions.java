package dev.lowbit.cli;

import dev.lowbit.quantizers.Rewriter;
import picocli.CommandLine.Option;

/** Positional-encoding rewrites, for rewrite and convert. */
final class RewriteOptions {
    @Option(names = "--rope-layout", description = "half (Hugging Face / GPT-NeoX) or interleaved (Meta / GPT-J / GGUF).")
    String ropeLayout;

    @Option(names = "--rope-scaling", description = "linear, dynamic, yarn or llama3 (written as 4.x rope_scaling and 5.x rope_parameters).")
    String ropeScaling;

    @Option(names = "--factor", defaultValue = "NaN")
    double factor;

    @Option(names = "--original-max-position", defaultValue = "0", description = "original_max_position_embeddings (yarn, llama3).")
    int originalMax;

    @Option(names = "--low-freq-factor", defaultValue = "NaN")
    double lowFreq;

    @Option(names = "--high-freq-factor", defaultValue = "NaN")
    double highFreq;

    @Option(names = "--beta-fast", defaultValue = "NaN")
    double betaFast;

    @Option(names = "--beta-slow", defaultValue = "NaN")
    double betaSlow;

    @Option(names = "--alibi-slope-scale", description = "Multiply ALiBi slopes (e.g. L_train/L to interpolate); recorded as lowbit_alibi_slope_scale.")
    Double alibiSlopeScale;

    boolean any() {
        return ropeLayout != null || ropeScaling != null || alibiSlopeScale != null;
    }

    Rewriter.Options options() {
        return new Rewriter.Options(ropeLayout, ropeScaling, factor, originalMax, lowFreq, highFreq, betaFast, betaSlow, alibiSlopeScale);
    }
}
