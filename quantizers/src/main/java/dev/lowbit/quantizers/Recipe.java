package dev.lowbit.quantizers;

import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * Which tensors a run quantizes. By default the 2-D weights of linear layers; 1-D tensors (norms, biases), embeddings
 * and lm_head stay as they are. --keep globs keep more, --only globs restrict to matching names, --lm-head includes it.
 */
public record Recipe(Scheme scheme, Layout layout, int block, boolean doubleQuant, List<String> keep, List<String> only,
                     boolean lmHead, String computeDtype) {

    public Recipe {
        keep = List.copyOf(keep);
        only = List.copyOf(only);
        if (layout == Layout.HF_BNB && !scheme.hasBnbLayout() && !scheme.isHalf())
            throw new IllegalArgumentException("scheme " + scheme.cliName() + " has no hf-bnb layout (use --layout lowbit)");
        if (doubleQuant && scheme != Scheme.NF4 && scheme != Scheme.FP4)
            throw new IllegalArgumentException("--double-quant applies to nf4 and fp4 only");
        if (doubleQuant && layout == Layout.LOWBIT)
            throw new IllegalArgumentException("--double-quant is bitsandbytes' (QLoRA) form: use --layout hf-bnb");
        if (scheme == Scheme.NF4 || scheme == Scheme.FP4) Blocks.checkBlock(block);
    }

    static boolean isEmbedding(String name) {
        return name.contains("embed") || name.contains(".wte.") || name.contains(".wpe.") || name.startsWith("wte.") || name.startsWith("wpe.");
    }

    /** Why a tensor is kept as it is, or null when it is quantized. */
    public String keepReason(Tensor t) {
        String n = t.name();
        if (matches(keep, n)) return "--keep";
        if (!only.isEmpty() && !matches(only, n)) return "not in --only";
        if (!t.dtype().isFloating()) return "not floating point";
        if (scheme.isHalf()) return null;
        if (t.rank() != 2) return t.rank() + "-D";
        if (isEmbedding(n)) return "embedding";
        if (n.startsWith("lm_head") && !lmHead) return "lm_head (use --lm-head)";
        if (layout == Layout.LOWBIT) {
            WeightFormat f = format(t.shape());
            if (t.shape()[1] % f.blockSize() != 0) return "rows of " + t.shape()[1] + " not a multiple of " + f.name() + "'s block " + f.blockSize();
        }
        return null;
    }

    /** The lowbit-layout weight format of this recipe for a 2-D weight of this logical shape. */
    public WeightFormat format(long[] shape) {
        return WeightFormats.lowbit(scheme.cliName(), block, Math.toIntExact(shape[shape.length - 1]));
    }

    private static boolean matches(List<String> globs, String name) {
        for (String g : globs) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + g);
            if (m.matches(Path.of(name))) return true;
        }
        return false;
    }
}
