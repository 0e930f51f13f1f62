package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.Tensor;
import dev.lowbit.validate.model.TensorDiff;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The largest error a correct quantizer + decoder can make on a weight, derived here from each format's resolution
 * (not measured): half a step of the grid, plus the rounding of a stored f16 scale (relative 2^−11) where there is one.
 * <ul>
 * <li>int8 rows (LLM.int8): step absmax_row/127 → absmax/254, plus bitsandbytes' f16 cast of w (|w|·2^−11 ≤ absmax·2^−11);
 * <li>int8-block (Q8_0): d = absmax/127 as f16: d/2 + 127·d·2^−11;
 * <li>int4 (symmetric, group g): s = absmax/7 as f16: s/2 + 8·s·2^−11; int4-asym: s = (max − min)/15, the rounded zero
 * point can add half a step: s + 16·s·2^−11;
 * <li>nf4 / fp4 (block b): half the widest gap of the published code table times the block's absmax (NF4: (1 −
 * 0.6962)/2 = 0.1519; FP4: (12 − 8)/12/2 = 0.1667), plus, with double quantization, the absmax's own error: half the
 * widest gap of the signed dynamic map (0.9/64/2 = 0.00704) times the nested absmax (≤ the tensor's largest absmax).
 * </ul>
 */
final class Resolution {
    private Resolution() {}

    static final double F16_REL = 0x1p-11;

    /** Bound on |w − decode(quantize(w))| over the whole tensor, given its values in linear orientation [rows × cols]. */
    static double bound(String scheme, boolean doubleQuant, int block, float[] w, int rows, int cols) {
        double worst = 0, maxAbs = 0;
        for (float v : w) maxAbs = Math.max(maxAbs, Math.abs(v));
        switch (scheme) {
            case "int8" -> {
                for (int r = 0; r < rows; r++) {
                    double a = 0;
                    for (int c = 0; c < cols; c++) a = Math.max(a, Math.abs(w[r * cols + c]));
                    worst = Math.max(worst, a / 254 + a * F16_REL);
                }
            }
            case "int8-block", "nf4", "fp4" -> {
                int b = scheme.equals("int8-block") ? 32 : block;
                double half = scheme.equals("int8-block") ? 0 : scheme.equals("nf4") ? (1 - 0.6961928009986877) / 2 : (12 - 8) / 12.0 / 2;
                for (int s = 0; s < w.length; s += b) {
                    double a = 0;
                    for (int i = s; i < Math.min(w.length, s + b); i++) a = Math.max(a, Math.abs(w[i]));
                    worst = Math.max(worst, scheme.equals("int8-block") ? a / 127 * (0.5 + 127 * F16_REL) : half * a);
                }
                if (doubleQuant) worst += 0.9 / 64 / 2 * maxAbs;
            }
            case "int4", "int4-asym" -> {
                for (int s = 0; s < w.length; s += block) {
                    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, a = 0;
                    for (int i = s; i < s + block; i++) {
                        lo = Math.min(lo, w[i]);
                        hi = Math.max(hi, w[i]);
                        a = Math.max(a, Math.abs(w[i]));
                    }
                    worst = Math.max(worst, scheme.equals("int4") ? a / 7 * (0.5 + 8 * F16_REL) : (hi - lo) / 15 * (1 + 16 * F16_REL));
                }
            }
            default -> throw new IllegalArgumentException(scheme);
        }
        return worst * (1 + 1e-6) + 1e-7 * maxAbs; // float rounding of the products themselves
    }

    /** Which weights the default recipe quantizes (README: 2-D, not embeddings, not lm_head; int4 needs rows divisible by the group). */
    static boolean quantizedByDefault(Tensor t, String scheme, int group, int cols) {
        String n = t.name();
        if (t.rank() != 2 || n.contains("embed") || n.contains("wte.") || n.contains("wpe.") || n.startsWith("lm_head")) return false;
        return !scheme.startsWith("int4") || cols % group == 0;
    }

    /**
     * For every weight the default recipe quantizes, the engine's decode of `out` (TensorDiff) is within the bound of the
     * original's values; returns how many were checked.
     */
    static int check(Path in, Path out, String scheme, boolean doubleQuant, int block) {
        Map<String, Double> maxAbs = new HashMap<>();
        for (TensorDiff.Row r : TensorDiff.compare(in, out)) maxAbs.put(r.name(), r.error().maxAbs());
        boolean gpt2 = ModelConfig.read(in).arch() == Architecture.GPT2;
        int checked = 0;
        try (Checkpoint ck = Checkpoint.open(in)) {
            for (Tensor t : ck.tensors()) {
                boolean conv1d = gpt2 && t.name().matches(".*\\.(c_attn|c_proj|c_fc)\\.weight");
                if (t.rank() != 2) continue;
                int rows = t.dim(conv1d ? 1 : 0), cols = t.dim(conv1d ? 0 : 1);
                if (!quantizedByDefault(t, scheme, block, cols)) continue;
                float[] w = new float[rows * cols];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++) w[r * cols + c] = (float) t.getDouble(conv1d ? (long) c * rows + r : (long) r * cols + c);
                Double got = maxAbs.get(t.name());
                assertNotNull(got, "the engine reads " + t.name() + " back from " + out);
                double b = bound(scheme, doubleQuant, block, w, rows, cols);
                assertTrue(got <= b, scheme + (doubleQuant ? "+dq " : " ") + t.name() + ": max |error| " + got + " > resolution bound " + b);
                assertTrue(got > 0, t.name() + " was quantized (some error), not copied");
                checked++;
            }
        }
        return checked;
    }
}
