package dev.lowbit.quantizers.lora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter as PEFT saves it: adapter_config.json and adapter_model.safetensors with tensors
 * base_model.model.MODULE.lora_A.weight [r, in] and .lora_B.weight [out, r]. Per module: r and lora_alpha (or their
 * rank_pattern / alpha_pattern entries), scale α/r, or α/√r with use_rslora, times the weight given on the command
 * line. fan_in_fan_out (GPT-2's Conv1D) means the base weight is stored [in, out]. Full replacement tensors
 * (modules_to_save, trained biases) replace the base's. Adapters are small: held on the heap.
 */
public final class LoraAdapter {
    static final String PREFIX = "base_model.model.";

    /** One target module: W' = W + scale · B·A. */
    public record Delta(String module, float[] a, float[] b, int rank, int in, int out, float scale, boolean fanInFanOut) {}

    private final Path dir;
    private final Map<String, Delta> deltas = new LinkedHashMap<>();
    private final Map<String, float[]> replacements = new LinkedHashMap<>();
    private final Map<String, long[]> replacementShapes = new LinkedHashMap<>();

    private LoraAdapter(Path dir) {
        this.dir = dir;
    }

    /** Reads an adapter folder; `weight` multiplies its scale (1 for the adapter as trained). */
    public static LoraAdapter read(Path dir, double weight) {
        Path cfgFile = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(cfgFile)) throw new FormatException(dir, "not a PEFT adapter folder: no adapter_config.json");
        JsonNode c;
        try {
            c = JsonTree.read(cfgFile);
        } catch (IOException e) {
            throw new FormatException(cfgFile, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new FormatException(cfgFile, "peft_type '" + type + "' is not supported: lowbit merges LoRA adapters only");
        refuseIfSet(cfgFile, c, "use_dora", "DoRA adapters are not supported");
        refuseIfSet(cfgFile, c, "use_qalora", "QA-LoRA adapters are not supported");
        refuseIfSet(cfgFile, c, "lora_bias", "LoRA bias terms are not supported");
        if (c.hasNonNull("layer_replication")) throw new FormatException(cfgFile, "layer_replication is not supported");
        if (c.hasNonNull("target_parameters")) throw new FormatException(cfgFile, "target_parameters (LoRA on raw parameters) is not supported");
        if (c.hasNonNull("trainable_token_indices")) throw new FormatException(cfgFile, "trainable_token_indices is not supported");
        int r = c.path("r").asInt(0);
        double alpha = c.path("lora_alpha").asDouble(r);
        boolean rslora = c.path("use_rslora").asBoolean(false), fifo = c.path("fan_in_fan_out").asBoolean(false);
        LoraAdapter ad = new LoraAdapter(dir);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            Map<String, Tensor> as = new LinkedHashMap<>(), bs = new LinkedHashMap<>();
            for (Tensor t : ck.tensors()) {
                String n = t.name();
                if (!n.startsWith(PREFIX)) throw new FormatException(dir, n, "adapter tensor name does not start with '" + PREFIX + "'");
                n = n.substring(PREFIX.length());
                if (n.contains("lora_embedding_")) throw new FormatException(dir, t.name(), "LoRA on embeddings is not supported");
                if (n.contains("lora_magnitude_vector")) throw new FormatException(dir, t.name(), "DoRA adapters are not supported");
                if (n.endsWith(".lora_A.weight")) as.put(n.substring(0, n.length() - ".lora_A.weight".length()), t);
                else if (n.endsWith(".lora_B.weight")) bs.put(n.substring(0, n.length() - ".lora_B.weight".length()), t);
                else if (n.contains(".lora_")) throw new FormatException(dir, t.name(), "unknown LoRA tensor");
                else {
                    String base = n.replace(".modules_to_save.default.", ".").replace(".modules_to_save.", ".");
                    ad.replacements.put(base, t.toFloatArray());
                    ad.replacementShapes.put(base, t.shape());
                }
            }
            for (var e : as.entrySet()) {
                String m = e.getKey();
                Tensor a = e.getValue(), b = bs.remove(m);
                if (b == null) throw new FormatException(dir, PREFIX + m + ".lora_B.weight", "missing (lora_A has no lora_B)");
                if (a.rank() != 2 || b.rank() != 2 || a.dim(0) != b.dim(1))
                    throw new FormatException(dir, PREFIX + m, "lora_A " + Arrays.toString(a.shape()) + " and lora_B "
                            + Arrays.toString(b.shape()) + " do not chain (A is [r, in], B is [out, r])");
                int rank = a.dim(0);
                int rm = pattern(c.path("rank_pattern"), m, r);
                double am = pattern(c.path("alpha_pattern"), m, alpha);
                if (rm != rank) throw new FormatException(dir, PREFIX + m, "rank " + rank + " in the tensors, " + rm + " in adapter_config.json");
                float scale = (float) (weight * (rslora ? am / Math.sqrt(rm) : am / rm));
                ad.deltas.put(m + ".weight", new Delta(m, a.toFloatArray(), b.toFloatArray(), rank, a.dim(1), b.dim(0), scale, fifo));
            }
            if (!bs.isEmpty()) throw new FormatException(dir, PREFIX + bs.keySet().iterator().next() + ".lora_A.weight", "missing (lora_B has no lora_A)");
        }
        if (ad.deltas.isEmpty() && ad.replacements.isEmpty()) throw new FormatException(dir, "the adapter holds no LoRA tensors");
        return ad;
    }

    private static void refuseIfSet(Path file, JsonNode c, String key, String why) {
        if (c.path(key).asBoolean(false)) throw new FormatException(file, key + ": " + why);
    }

    /** PEFT's get_pattern_key: a key matches a module name when the name is the key or ends in "." + key (regex allowed). */
    private static <T extends Number> T pattern(JsonNode patterns, String module, T dflt) {
        for (var it = patterns.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).matches()) {
                @SuppressWarnings("unchecked")
                T v = dflt instanceof Integer ? (T) Integer.valueOf(e.getValue().asInt()) : (T) Double.valueOf(e.getValue().asDouble());
                return v;
            }
        }
        return dflt;
    }

    public Path dir() {
        return dir;
    }

    /** The low-rank update of a base tensor, or null. */
    public Delta delta(String tensor) {
        return deltas.get(tensor);
    }

    /** A full replacement of a base tensor (modules_to_save, trained bias), or null. */
    public float[] replacement(String tensor) {
        return replacements.get(tensor);
    }

    public long[] replacementShape(String tensor) {
        return replacementShapes.get(tensor);
    }

    /** Every base tensor this adapter changes. */
    public List<String> targets() {
        List<String> all = new ArrayList<>(deltas.keySet());
        all.addAll(replacements.keySet());
        return all;
    }
}
