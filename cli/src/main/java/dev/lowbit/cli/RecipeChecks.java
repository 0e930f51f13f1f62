package dev.lowbit.cli;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Refusals of recipe options that transformers would choke on or that would silently do nothing. */
final class RecipeChecks {
    private RecipeChecks() {}

    /** What bnb_4bit_compute_dtype may say (torch dtype names), with the short spellings users type. */
    static final Map<String, String> COMPUTE_DTYPES = Map.of("float16", "float16", "fp16", "float16", "half", "float16",
            "bfloat16", "bfloat16", "bf16", "bfloat16", "float32", "float32", "fp32", "float32", "float", "float32");

    static void check(RecipeOptions o, Scheme s) {
        if (o.computeDtype != null) {
            String d = COMPUTE_DTYPES.get(o.computeDtype.toLowerCase(Locale.ROOT).replace("torch.", ""));
            if (d == null) throw new IllegalArgumentException("--compute-dtype takes float16, bfloat16 or float32 (what bitsandbytes computes in), not '" + o.computeDtype + "'");
            if (s != Scheme.NF4 && s != Scheme.FP4) throw new IllegalArgumentException("--compute-dtype applies to nf4 and fp4 only (bnb_4bit_compute_dtype), not " + s.cliName());
            o.computeDtype = d;
        }
        if (o.block != null) {
            boolean blocked = s == Scheme.NF4 || s == Scheme.FP4 || s == Scheme.INT4 || s == Scheme.INT4_ASYM;
            if (!blocked) throw new IllegalArgumentException("--block applies to nf4, fp4 (block size) and int4, int4-asym (group size), not "
                    + s.cliName() + (s == Scheme.INT8_BLOCK ? " (Q8_0 blocks are always 32)" : ""));
            if (o.block < 1) throw new IllegalArgumentException("--block must be positive, not " + o.block);
        }
        if (o.layout != null) o.layout = o.layout.toLowerCase(Locale.ROOT);
        if (o.computeDtype != null && "lowbit".equals(o.layout))
            throw new IllegalArgumentException("--compute-dtype is written in hf-bnb's quantization_config; --layout lowbit has none");
        for (String g : o.keep) if (g.equals("*") || g.equals("**")) throw new IllegalArgumentException("--keep '" + g + "' keeps every tensor: nothing would be quantized");
    }

    /**
     * Against the model's tensors: every --only and --keep glob must match something, and something must be left
     * to quantize. Returns warnings (none today).
     */
    static List<String> checkTensors(Path model, Recipe r) throws IOException {
        List<String> names = new ArrayList<>();
        int quantized = 0;
        try (Checkpoint ck = Checkpoint.open(model)) {
            for (Tensor t : ck.tensors()) {
                names.add(t.name());
                if (r.keepReason(t) == null) quantized++;
            }
        }
        String example = names.stream().filter(n -> n.contains("layers.0.") || n.contains(".h.0.")).findFirst().orElse(names.isEmpty() ? "" : names.get(0));
        for (var e : Map.of("--only", r.only(), "--keep", r.keep()).entrySet())
            for (String g : e.getValue()) {
                var m = FileSystems.getDefault().getPathMatcher("glob:" + g);
                if (names.stream().noneMatch(n -> m.matches(Path.of(n))))
                    throw new IllegalArgumentException(e.getKey() + " '" + g + "' matches no tensor of " + model + " (names look like " + example + ")");
            }
        if (quantized == 0)
            throw new IllegalArgumentException("nothing to quantize: every tensor of " + model + " is kept by the defaults" +
                    (r.only().isEmpty() && r.keep().isEmpty() ? "" : ", --only and --keep") + " (see --dry-run)");
        return List.of();
    }
}
