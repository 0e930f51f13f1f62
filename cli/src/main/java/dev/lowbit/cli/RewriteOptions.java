package dev.lowbit.cli;

import dev.lowbit.formats.ModelConfig;
import dev.lowbit.quantizers.Rewriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Positional-encoding rewrites, for rewrite and convert. */
final class RewriteOptions {
    static final List<String> LAYOUTS = List.of("half", "interleaved"), SCALINGS = List.of("linear", "dynamic", "yarn", "llama3");

    @Option(names = "--rope-layout", paramLabel = "L", completionCandidates = Candidates.RopeLayouts.class,
            description = "Reorder q/k rows: half (Hugging Face / GPT-NeoX) or interleaved (Meta / GPT-J / GGUF).")
    String ropeLayout;

    @Option(names = "--rope-scaling", paramLabel = "TYPE", completionCandidates = Candidates.RopeScalings.class,
            description = "Extend the RoPE context: linear, dynamic, yarn or llama3 (written as 4.x rope_scaling and 5.x rope_parameters); needs --factor.")
    String ropeScaling;

    @Option(names = "--factor", paramLabel = "F", description = "Context extension factor of --rope-scaling (e.g. 4: 4x the original context).")
    Double factor;

    @Option(names = "--original-max-position", paramLabel = "N",
            description = "original_max_position_embeddings (yarn, llama3, dynamic; default: the model's max_position_embeddings). "
                    + "max_position_embeddings becomes N x F.")
    Integer originalMax;

    @Option(names = "--low-freq-factor", paramLabel = "A", description = "llama3 only: wavelengths above original/A are divided by F (default 1).")
    Double lowFreq;

    @Option(names = "--high-freq-factor", paramLabel = "B", description = "llama3 only: wavelengths below original/B stay as they are (default 4).")
    Double highFreq;

    @Option(names = "--beta-fast", paramLabel = "X", description = "yarn only: rotations at which interpolation starts (default 32).")
    Double betaFast;

    @Option(names = "--beta-slow", paramLabel = "Y", description = "yarn only: rotations at which interpolation is complete (default 1).")
    Double betaSlow;

    @Option(names = "--alibi-slope-scale", paramLabel = "S",
            description = "BLOOM only: multiply ALiBi slopes (e.g. L_train/L to interpolate); recorded as lowbit_alibi_slope_scale.")
    Double alibiSlopeScale;

    boolean any() {
        return ropeLayout != null || ropeScaling != null || alibiSlopeScale != null;
    }

    /** Refuses options that would do nothing or contradict each other; returns warnings for combinations that cancel out. */
    List<String> check(Path model) {
        List<String> warn = new ArrayList<>();
        if (ropeLayout != null) {
            ropeLayout = ropeLayout.toLowerCase(Locale.ROOT);
            if (!LAYOUTS.contains(ropeLayout)) throw new IllegalArgumentException("--rope-layout takes half or interleaved, not '" + ropeLayout + "'");
        }
        if (ropeScaling == null) {
            for (var o : List.of(new Object[] {"--factor", factor}, new Object[] {"--original-max-position", originalMax},
                    new Object[] {"--low-freq-factor", lowFreq}, new Object[] {"--high-freq-factor", highFreq},
                    new Object[] {"--beta-fast", betaFast}, new Object[] {"--beta-slow", betaSlow}))
                if (o[1] != null) throw new IllegalArgumentException(o[0] + " needs --rope-scaling (linear, dynamic, yarn or llama3)");
        } else {
            ropeScaling = ropeScaling.toLowerCase(Locale.ROOT);
            if (!SCALINGS.contains(ropeScaling))
                throw new IllegalArgumentException("--rope-scaling takes linear, dynamic, yarn or llama3, not '" + ropeScaling + "'");
            if (factor == null) throw new IllegalArgumentException("--rope-scaling " + ropeScaling + " needs --factor F (e.g. --factor 4 for 4x the context)");
            if (!(factor > 0) || factor.isInfinite()) throw new IllegalArgumentException("--factor must be a positive number, not " + Units.plain(factor));
            if (!ropeScaling.equals("yarn") && (betaFast != null || betaSlow != null))
                throw new IllegalArgumentException("--beta-fast/--beta-slow apply to --rope-scaling yarn only, not " + ropeScaling);
            if (!ropeScaling.equals("llama3") && (lowFreq != null || highFreq != null))
                throw new IllegalArgumentException("--low-freq-factor/--high-freq-factor apply to --rope-scaling llama3 only, not " + ropeScaling);
            if (ropeScaling.equals("linear") && originalMax != null)
                throw new IllegalArgumentException("--original-max-position does not apply to --rope-scaling linear (transformers ignores it)");
            if (originalMax != null && originalMax < 1) throw new IllegalArgumentException("--original-max-position must be at least 1, not " + originalMax);
            if (lowFreq != null && highFreq != null && !(highFreq > lowFreq))
                throw new IllegalArgumentException("--high-freq-factor must be greater than --low-freq-factor");
            if (betaFast != null && betaSlow != null && !(betaFast > betaSlow))
                throw new IllegalArgumentException("--beta-fast must be greater than --beta-slow");
            if (factor == 1.0) warn.add("--factor 1 leaves the RoPE frequencies as they are: the rewrite changes nothing");
            else if (factor < 1) warn.add("--factor " + Units.plain(factor) + " is below 1: it shrinks the context instead of extending it");
        }
        if (alibiSlopeScale != null) {
            if (!(alibiSlopeScale > 0) || alibiSlopeScale.isInfinite())
                throw new IllegalArgumentException("--alibi-slope-scale must be a positive number, not " + Units.plain(alibiSlopeScale));
            if (alibiSlopeScale == 1.0) warn.add("--alibi-slope-scale 1 leaves the slopes as they are");
        }
        if (ropeLayout != null && model != null) {
            ModelConfig cfg = ModelConfig.read(model);
            String from = cfg.raw().path(Rewriter.ROPE_LAYOUT_KEY).asText("half");
            if (from.equals(ropeLayout)) warn.add("the model's RoPE layout is already " + from + ": --rope-layout changes nothing");
        }
        return warn;
    }

    Rewriter.Options options() {
        return new Rewriter.Options(ropeLayout, ropeScaling, factor == null ? Double.NaN : factor, originalMax == null ? 0 : originalMax,
                lowFreq == null ? Double.NaN : lowFreq, highFreq == null ? Double.NaN : highFreq, betaFast == null ? Double.NaN : betaFast,
                betaSlow == null ? Double.NaN : betaSlow, alibiSlopeScale);
    }
}
