package dev.lowbit.quantizers.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.SafetensorsFile;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.quantizers.format.WeightFormat;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face model folder seen as convert_hf_to_gguf.py sees it: the GGUF architecture, the tensors in the
 * converter's order with their GGUF names and the converter's rewrites (Llama q/k rows to the interleaved RoPE
 * layout, GPT-2 Conv1D transposes, BLOOM's fused qkv reordered to [Q | K | V]), and the metadata it writes
 * (general.*, hyper-parameters, tokenizer) for a given {@code general.file_type}.
 */
final class HfModel implements AutoCloseable {
    /**
     * One GGUF tensor: name, numpy-order shape, and its float32 values on demand; for 2-D weights whose rewrite only
     * moves rows (or none), also those rows read straight from the checkpoint (rows, else null).
     */
    record Item(String name, long[] shape, String source, Supplier<float[]> data, Rows rows) {
        Item(String name, long[] shape, String source, Supplier<float[]> data) {
            this(name, shape, source, data, null);
        }

        long[] ne() {
            long[] ne = new long[shape.length];
            for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
            return ne;
        }

        long numel() {
            return Tensor.numel(shape);
        }
    }

    /**
     * The rows of a 2-D checkpoint tensor [rows × cols] in the converter's order: row r of the GGUF tensor is row
     * order[r] of the stored one (order null: the same row). Lets rows be converted and quantized a few at a time, in
     * parallel, without the whole tensor as floats.
     */
    record Rows(Tensor tensor, int cols, int[] order) {
        /** Rows [row, row+n) as floats into dst[0, n·cols). */
        void read(int row, int n, float[] dst) {
            if (order == null) {
                tensor.readFloats((long) row * cols, dst, 0, n * cols);
                return;
            }
            for (int i = 0; i < n; i++) tensor.readFloats((long) order[row + i] * cols, dst, i * cols, cols);
        }

        /** Rows [row, row+n) as stored in the checkpoint when they are in its order (no permutation), else null. */
        MemorySegment stored(int row, int n) {
            long rowBytes = cols * tensor.dtype().size();
            return order == null ? tensor.data().asSlice(row * rowBytes, n * rowBytes) : null;
        }

        /** Rows [row, row+n) as format f's bytes into dst[dstOff ..], taken as stored (f.copies(the tensor's dtype)). */
        void copy(int row, int n, WeightFormat f, byte[] dst, int dstOff) {
            long size = tensor.dtype().size(), rowBytes = f.rowBytes(cols);
            if (order == null) {
                f.copy(tensor.data(), (long) row * cols * size, n * cols, dst, dstOff);
                return;
            }
            for (int i = 0; i < n; i++) f.copy(tensor.data(), (long) order[row + i] * cols * size, cols, dst, Math.toIntExact(dstOff + i * rowBytes));
        }
    }

    final Path dir;
    final ObjectNode config;
    final String hfArch;
    final String arch;
    final Checkpoint ckpt;
    final List<Item> items = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();

    private HfModel(Path dir, ObjectNode config, String hfArch, String arch, Checkpoint ckpt) {
        this.dir = dir;
        this.config = config;
        this.hfArch = hfArch;
        this.arch = arch;
        this.ckpt = ckpt;
    }

    static HfModel open(Path model) {
        Path dir = model.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw new FormatException(model, "GGUF export needs a model folder (config.json, tokenizer.json, *.safetensors)");
        Path cf = dir.resolve("config.json");
        if (!Files.isRegularFile(cf)) throw new FormatException(dir, "no config.json");
        if (!(GgufVocab.readJson(cf) instanceof ObjectNode config)) throw new FormatException(cf, "not a JSON object");
        if (config.has("text_config") && config.get("text_config") instanceof ObjectNode tc) tc.properties().iterator().forEachRemaining(e -> config.set(e.getKey(), e.getValue()));
        String hfArch = config.path("architectures").path(0).asText("");
        String arch = switch (hfArch) {
            case "LlamaForCausalLM", "LLaMAForCausalLM", "MistralForCausalLM", "LlamaModel" -> "llama";
            case "Qwen2ForCausalLM", "Qwen2Model" -> "qwen2";
            case "GPT2LMHeadModel" -> "gpt2";
            case "BloomForCausalLM", "BloomModel" -> "bloom";
            default -> throw new FormatException(cf, "architecture '" + hfArch + "' is not supported for GGUF export (llama, mistral, qwen2, gpt2, bloom are)");
        };
        Checkpoint ckpt = Checkpoint.open(dir);
        HfModel m = new HfModel(dir, config, hfArch, arch, ckpt);
        Architecture a = Architecture.of(config.path("model_type").asText(null), hfArch);
        int layers = config.path("num_hidden_layers").asInt(0), window = 0;
        for (int i = 0; a != null && i < layers; i++) window = Math.max(window, ModelConfig.slidingWindow(a, config, layers, i));
        if (window > 0)
            m.warnings.add(cf + ": sliding_window " + window + ": the GGUF has no sliding-window key (nor does convert_hf_to_gguf.py's) and llama.cpp's "
                    + arch + " attends to the whole context, so past " + window + " tokens its outputs differ from transformers' and lowbit's");
        try {
            m.index();
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
        return m;
    }

    @Override
    public void close() {
        ckpt.close();
    }

    // ------------------------------------------------------------------ hyper-parameters

    JsonNode find(String... keys) {
        for (String k : keys) if (config.has(k) && !config.get(k).isNull()) return config.get(k);
        return null;
    }

    int intParam(String what, int dflt, String... keys) {
        JsonNode n = find(keys);
        if (n == null) {
            if (dflt >= 0) return dflt;
            throw new FormatException(dir.resolve("config.json"), "missing " + what + " (" + String.join(" / ", keys) + ")");
        }
        if (!n.canConvertToInt()) throw new FormatException(dir.resolve("config.json"), keys[0] + " is not an integer: " + n);
        return n.asInt();
    }

    int blockCount() {
        return intParam("the layer count", -1, "n_layers", "num_hidden_layers", "n_layer", "num_layers");
    }

    int heads() {
        return intParam("the head count", -1, "num_attention_heads", "n_head", "n_heads");
    }

    int kvHeads() {
        return intParam("the kv head count", heads(), "num_key_value_heads", "n_kv_heads");
    }

    int hidden() {
        return intParam("the hidden size", -1, "hidden_size", "n_embd", "dim", "n_embed");
    }

    /** What llama-quantize's recipes know of the model. */
    GgufRecipe.Model recipeModel() {
        int nHead = heads();
        int nKv = arch.equals("llama") || arch.equals("qwen2") || arch.equals("bloom") ? kvHeads() : nHead;
        if (arch.equals("bloom")) nKv = nHead;
        return new GgufRecipe.Model(arch, blockCount(), nHead, nKv, 0);
    }

    /** rope_parameters (5.x) or rope_scaling (4.x), with rope_theta and rope_type mirrored in as TextModel does. */
    ObjectNode ropeParameters() {
        JsonNode rp = config.has("rope_parameters") ? config.get("rope_parameters") : config.get("rope_scaling");
        ObjectNode p = rp instanceof ObjectNode o && !o.isEmpty() ? o.deepCopy() : JsonNodeFactory.instance.objectNode();
        if (!p.has("full_attention") && !p.has("sliding_attention")) {
            JsonNode theta = find("global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base");
            if (theta == null && (arch.equals("llama") || arch.equals("qwen2")) && !p.has("rope_theta"))
                theta = JsonNodeFactory.instance.numberNode(10000.0); // LlamaConfig / Qwen2Config default
            if (!p.has("rope_theta") && theta != null) p.set("rope_theta", theta);
            if (!p.has("rope_type") && p.has("type") && !p.get("type").isNull()) p.set("rope_type", p.get("type"));
        }
        return p;
    }

    // ------------------------------------------------------------------ tensors

    private static final Pattern LLAMA = Pattern.compile(
            "model\\.layers\\.(\\d+)\\.(input_layernorm|post_attention_layernorm|self_attn\\.[qkvo]_proj|mlp\\.(?:gate|up|down)_proj)\\.(weight|bias)");
    private static final Pattern GPT2 = Pattern.compile("h\\.(\\d+)\\.(ln_1|ln_2|attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.(weight|bias)");
    private static final Pattern BLOOM = Pattern.compile(
            "h\\.(\\d+)\\.(input_layernorm|post_attention_layernorm|self_attention\\.query_key_value|self_attention\\.dense|mlp\\.dense_h_to_4h|mlp\\.dense_4h_to_h)\\.(weight|bias)");

    /** The GGUF name of an HF tensor (after the architecture's own renames), or null when the converter cannot map it. */
    String ggufName(String name) {
        String n = name;
        switch (arch) {
            case "llama", "qwen2" -> {
                if (hfArch.equals("LlamaModel") || hfArch.equals("Qwen2Model")) n = "model." + n;
                Matcher m = LLAMA.matcher(n);
                if (m.matches()) {
                    String t = switch (m.group(2)) {
                        case "input_layernorm" -> "attn_norm";
                        case "post_attention_layernorm" -> "ffn_norm";
                        case "self_attn.q_proj" -> "attn_q";
                        case "self_attn.k_proj" -> "attn_k";
                        case "self_attn.v_proj" -> "attn_v";
                        case "self_attn.o_proj" -> "attn_output";
                        case "mlp.gate_proj" -> "ffn_gate";
                        case "mlp.up_proj" -> "ffn_up";
                        default -> "ffn_down";
                    };
                    return "blk." + m.group(1) + "." + t + "." + m.group(3);
                }
                return top(n, "model.embed_tokens", "token_embd", "model.norm", "output_norm", "lm_head", "output");
            }
            case "gpt2" -> {
                if (n.startsWith("transformer.")) n = n.substring("transformer.".length());
                Matcher m = GPT2.matcher(n);
                if (m.matches()) {
                    String t = switch (m.group(2)) {
                        case "ln_1" -> "attn_norm";
                        case "ln_2" -> "ffn_norm";
                        case "attn.c_attn" -> "attn_qkv";
                        case "attn.c_proj" -> "attn_output";
                        case "mlp.c_fc" -> "ffn_up";
                        default -> "ffn_down";
                    };
                    return "blk." + m.group(1) + "." + t + "." + m.group(3);
                }
                return top(n, "wte", "token_embd", "wpe", "position_embd", "ln_f", "output_norm", "lm_head", "output");
            }
            default -> { // bloom
                n = n.replace("transformer.", "");
                Matcher m = BLOOM.matcher(n);
                if (m.matches()) {
                    String t = switch (m.group(2)) {
                        case "input_layernorm" -> "attn_norm";
                        case "post_attention_layernorm" -> "ffn_norm";
                        case "self_attention.query_key_value" -> "attn_qkv";
                        case "self_attention.dense" -> "attn_output";
                        case "mlp.dense_h_to_4h" -> "ffn_up";
                        default -> "ffn_down";
                    };
                    return "blk." + m.group(1) + "." + t + "." + m.group(3);
                }
                return top(n, "word_embeddings_layernorm", "token_embd_norm", "word_embeddings", "token_embd", "ln_f", "output_norm", "lm_head", "output");
            }
        }
    }

    private static String top(String n, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (n.equals(pairs[i] + ".weight")) return pairs[i + 1] + ".weight";
            if (n.equals(pairs[i] + ".bias")) return pairs[i + 1] + ".bias";
        }
        return null;
    }

    /** The tensors in the converter's order: shard files by name, tensors by name within each (safetensors' order). */
    private void index() {
        List<SafetensorsFile> files = new ArrayList<>(ckpt.files());
        files.sort(Comparator.comparing(f -> f.path().getFileName().toString()));
        ropeFreqs();
        for (SafetensorsFile f : files) {
            List<String> names = new ArrayList<>(f.tensors().keySet());
            names.sort(null);
            for (String name : names) {
                if (name.endsWith(".attention.masked_bias") || name.endsWith(".attention.bias") || name.endsWith(".rotary_emb.inv_freq")) continue;
                if (arch.equals("gpt2") && (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias"))) continue;
                Tensor t = f.tensors().get(name);
                String g = ggufName(name);
                if (g == null) throw new FormatException(f.path(), name, "cannot map this tensor to a GGUF name (as llama.cpp's converter: \"Can not map tensor\")");
                items.add(transform(name, g, t));
            }
        }
    }

    private Item transform(String hf, String gguf, Tensor t) {
        long[] shape = t.shape().clone();
        if (arch.equals("llama") && (hf.endsWith("q_proj.weight") || hf.endsWith("q_proj.bias") || hf.endsWith("k_proj.weight") || hf.endsWith("k_proj.bias"))) {
            int nHead = heads(), nKv = kvHeads();
            int n = hf.contains("k_proj") && nKv != nHead ? nKv : nHead;
            return new Item(gguf, shape, hf, () -> reorderRows(read(t), permuteOrder((int) shape[0], n)),
                    shape.length == 2 ? rows(t, permuteOrder((int) shape[0], n)) : null);
        }
        if (arch.equals("gpt2") && shape.length == 2 && (hf.endsWith(".c_attn.weight") || hf.endsWith(".c_proj.weight") || hf.endsWith(".c_fc.weight"))) {
            long[] s = {shape[1], shape[0]};
            return new Item(gguf, s, hf, () -> transpose(read(t), (int) shape[0], (int) shape[1]));
        }
        if (arch.equals("bloom") && hf.contains("self_attention.query_key_value.")) {
            int nHead = heads(), nEmbed = hidden();
            return new Item(gguf, shape, hf, () -> reorderRows(read(t), bloomQkvOrder((int) shape[0], nHead, nEmbed)),
                    shape.length == 2 ? rows(t, bloomQkvOrder((int) shape[0], nHead, nEmbed)) : null);
        }
        return new Item(gguf, shape, hf, () -> read(t), shape.length == 2 ? rows(t, null) : null);
    }

    private static Rows rows(Tensor t, int[] order) {
        return new Rows(t, t.dim(1), order);
    }

    /**
     * LlamaModel.permute (reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2)) as a row order: GGUF row
     * h·2·half + 2i + j is stored row h·2·half + j·half + i.
     */
    static int[] permuteOrder(int rows, int nHead) {
        if (rows % (2 * nHead) != 0) throw new IllegalArgumentException("cannot permute " + rows + " rows over " + nHead + " heads");
        int half = rows / nHead / 2;
        int[] order = new int[rows];
        for (int h = 0; h < nHead; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++) order[h * 2 * half + 2 * i + j] = h * 2 * half + j * half + i;
        return order;
    }

    /**
     * BloomModel.modify_tensors (rows viewed as (n_head, 3, head_dim), regrouped to Q, K, V) as a row order: GGUF row
     * (j·nHead + h)·hd + r is stored row (3h + j)·hd + r.
     */
    static int[] bloomQkvOrder(int rows, int nHead, int nEmbed) {
        int hd = nEmbed / nHead;
        if (rows != 3 * nHead * hd) throw new IllegalArgumentException("query_key_value has " + rows + " rows, expected " + 3 * nHead * hd);
        int[] order = new int[rows];
        for (int h = 0; h < nHead; h++)
            for (int j = 0; j < 3; j++)
                for (int r = 0; r < hd; r++) order[(j * nHead + h) * hd + r] = (h * 3 + j) * hd + r;
        return order;
    }

    static float[] read(Tensor t) {
        if (t.numel() > Integer.MAX_VALUE - 8) throw new FormatException(null, t.name(), "tensor too large for GGUF export (more than 2^31 elements)");
        float[] a = new float[(int) t.numel()];
        t.readFloats(0, a);
        return a;
    }

    /** Row r of the result is row order[r] of w (rows of w.length / order.length values). */
    static float[] reorderRows(float[] w, int[] order) {
        int cols = w.length / order.length;
        float[] out = new float[w.length];
        for (int r = 0; r < order.length; r++) System.arraycopy(w, order[r] * cols, out, r * cols, cols);
        return out;
    }

    static float[] transpose(float[] w, int rows, int cols) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
        return out;
    }

    /** LlamaModel.generate_extra_tensors: rope_freqs for the llama3 RoPE type. */
    private void ropeFreqs() {
        if (!arch.equals("llama")) return;
        ObjectNode rp = ropeParameters();
        JsonNode p = rp.has("full_attention") ? rp.get("full_attention") : rp;
        if (!p.path("rope_type").asText("").toLowerCase(Locale.ROOT).equals("llama3")) return;
        double base = p.path("rope_theta").asDouble(10000.0);
        int dim = config.has("head_dim") && !config.get("head_dim").isNull() ? config.get("head_dim").asInt() : hidden() / heads();
        double factor = p.path("factor").asDouble(8.0), low = p.path("low_freq_factor").asDouble(1.0), high = p.path("high_freq_factor").asDouble(4.0);
        double old = config.path("original_max_position_embeddings").asDouble(8192);
        double lowWl = old / low, highWl = old / high;
        int n = (dim + 1) / 2;
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            float e = (float) (2 * i) / dim;
            float freq = 1.0f / (float) Math.pow((float) base, e);
            double wl = 2 * Math.PI / freq;
            if (wl < highWl) f[i] = 1;
            else if (wl > lowWl) f[i] = (float) factor;
            else {
                double smooth = (old / wl - low) / (high - low);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        items.add(new Item("rope_freqs.weight", new long[] {n}, "(llama3 rope factors)", () -> f.clone()));
        warnings.add("llama3 RoPE: rope_freqs computed in float32 as the converter does; values may differ from torch's pow by an ulp");
    }

    long totalParams() {
        long n = 0;
        for (Item i : items) n += i.numel();
        return n;
    }

    // ------------------------------------------------------------------ metadata

    /**
     * The metadata convert_hf_to_gguf.py writes, in its order, for this file type id (the F32 file llama-quantize
     * starts from has 0).
     */
    GgufVocab.Kv metadata(int fileType) {
        GgufVocab.Kv kv = new GgufVocab.Kv();
        kv.put("general.architecture", GgufValue.str(arch));
        kv.put("general.type", GgufValue.str("model"));
        metaModel(kv);
        parameters(kv, fileType);
        kv.put("general.quantization_version", GgufValue.u32(2));
        long embeddingRows = items.stream().filter(i -> i.name().equals("token_embd.weight")).mapToLong(i -> i.shape()[0]).findFirst().orElse(0);
        GgufVocab.write(dir, arch, config, embeddingRows, kv, warnings::add);
        return kv;
    }

    private void metaModel(GgufVocab.Kv kv) {
        Path gc = dir.resolve("generation_config.json");
        JsonNode gen = Files.isRegularFile(gc) ? safeJson(gc) : null;
        if (gen != null) {
            putIf(kv, gen, "sequence", "general.sampling.sequence", 's');
            putIf(kv, gen, "top_k", "general.sampling.top_k", 'i');
            putIf(kv, gen, "top_p", "general.sampling.top_p", 'f');
            putIf(kv, gen, "min_p", "general.sampling.min_p", 'f');
            putIf(kv, gen, "xtc_probability", "general.sampling.xtc_probability", 'f');
            putIf(kv, gen, "xtc_threshold", "general.sampling.xtc_threshold", 'f');
            putIf(kv, gen, "temperature", "general.sampling.temp", 'f');
            putIf(kv, gen, "penalty_last_n", "general.sampling.penalty_last_n", 'i');
            putIf(kv, gen, "penalty_repeat", "general.sampling.penalty_repeat", 'f');
            putIf(kv, gen, "mirostat", "general.sampling.mirostat", 'i');
            putIf(kv, gen, "mirostat_tau", "general.sampling.mirostat_tau", 'f');
            putIf(kv, gen, "mirostat_eta", "general.sampling.mirostat_eta", 'f');
        }
        if (Files.isRegularFile(dir.resolve("README.md")))
            warnings.add("README.md model card: llama.cpp's converter also copies its YAML front matter (license, tags, base models…) into general.*; lowbit does not");
        long total = totalParams();
        String name = null, org = null, basename = null, finetune = null, version = null, size = null;
        JsonNode nop = config.get("_name_or_path");
        List<GgufNaming.Components> sources = new ArrayList<>();
        if (nop != null && nop.isTextual() && nop.textValue().chars().filter(c -> c == '/').count() <= 1)
            sources.add(GgufNaming.components(nop.textValue(), total));
        Path fn = dir.getFileName();
        sources.add(GgufNaming.components(fn == null ? null : fn.toString(), total));
        for (GgufNaming.Components c : sources) {
            if (name == null && c.fullName() != null) name = GgufNaming.idToTitle(c.fullName());
            if (org == null && c.org() != null) org = GgufNaming.idToTitle(c.org());
            if (basename == null) basename = c.basename();
            if (finetune == null) finetune = c.finetune();
            if (version == null) version = c.version();
            if (size == null) size = c.sizeLabel();
        }
        if (name == null) name = fn == null ? "model" : fn.toString();
        if (size == null && total > 0) size = GgufNaming.sizeLabel(total);
        kv.put("general.name", GgufValue.str(name));
        if (version != null) kv.put("general.version", GgufValue.str(version));
        if (org != null) kv.put("general.organization", GgufValue.str(org));
        if (finetune != null) kv.put("general.finetune", GgufValue.str(finetune));
        if (basename != null) kv.put("general.basename", GgufValue.str(basename));
        if (size != null) kv.put("general.size_label", GgufValue.str(size));
    }

    private JsonNode safeJson(Path f) {
        try {
            return JsonTree.read(f);
        } catch (IOException e) {
            return null; // the converter ignores an invalid generation_config.json too
        }
    }

    private static void putIf(GgufVocab.Kv kv, JsonNode gen, String key, String gguf, char kind) {
        JsonNode v = gen.get(key);
        if (v == null || v.isNull()) return;
        switch (kind) {
            case 's' -> kv.put(gguf, GgufValue.str(v.asText()));
            case 'i' -> kv.put(gguf, GgufValue.i32(v.asInt()));
            default -> kv.put(gguf, GgufValue.f32((float) v.asDouble()));
        }
    }

    private String k(String suffix) {
        return arch + "." + suffix;
    }

    private void u32(GgufVocab.Kv kv, String key, long v) {
        kv.put(k(key), GgufValue.u32(v));
    }

    private void f32(GgufVocab.Kv kv, String key, double v) {
        kv.put(k(key), GgufValue.f32((float) v));
    }

    private void parameters(GgufVocab.Kv kv, int fileType) {
        switch (arch) {
            case "gpt2" -> {
                u32(kv, "block_count", blockCount());
                u32(kv, "context_length", intParam("the context length", -1, "n_ctx", "n_positions"));
                int nEmbd = intParam("n_embd", -1, "n_embd");
                u32(kv, "embedding_length", nEmbd);
                u32(kv, "feed_forward_length", 4L * nEmbd);
                u32(kv, "attention.head_count", intParam("n_head", -1, "n_head"));
                f32(kv, "attention.layer_norm_epsilon", find("layer_norm_epsilon") != null ? find("layer_norm_epsilon").asDouble() : 1e-5);
                kv.put("general.file_type", GgufValue.u32(fileType));
            }
            case "bloom" -> {
                int nEmbed = hidden(), nHead = heads();
                u32(kv, "context_length", find("seq_length") != null ? find("seq_length").asLong() : nEmbed);
                u32(kv, "embedding_length", nEmbed);
                u32(kv, "feed_forward_length", 4L * nEmbed);
                u32(kv, "block_count", blockCount());
                u32(kv, "attention.head_count", nHead);
                u32(kv, "attention.head_count_kv", nHead);
                f32(kv, "attention.layer_norm_epsilon", find("layer_norm_epsilon") != null ? find("layer_norm_epsilon").asDouble() : 1e-5);
                kv.put("general.file_type", GgufValue.u32(fileType));
            }
            default -> { // TextModel.set_gguf_parameters (+ LlamaModel's additions)
                boolean llama = arch.equals("llama");
                u32(kv, "block_count", blockCount());
                JsonNode ctx = find("max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length");
                u32(kv, "context_length", ctx != null ? ctx.asLong() : llama ? 2048 : 32768);
                u32(kv, "embedding_length", hidden());
                JsonNode ff = find("intermediate_size", "n_inner", "hidden_dim");
                if (ff != null) u32(kv, "feed_forward_length", ff.asLong());
                u32(kv, "attention.head_count", heads());
                u32(kv, "attention.head_count_kv", kvHeads());
                if (config.has("is_causal") && config.get("is_causal").isBoolean() && !config.get("is_causal").booleanValue())
                    kv.put(k("attention.causal"), GgufValue.bool(false));
                ropeScaling(kv);
                JsonNode rms = find("rms_norm_eps", "norm_eps");
                f32(kv, "attention.layer_norm_rms_epsilon", rms != null ? rms.asDouble() : 1e-6);
                JsonNode ln = find("layer_norm_eps", "layer_norm_epsilon", "norm_epsilon");
                if (ln != null) f32(kv, "attention.layer_norm_epsilon", ln.asDouble());
                JsonNode headDim = find("head_dim");
                if (headDim == null && llama) headDim = JsonNodeFactory.instance.numberNode(hidden() / heads()); // LlamaConfig fills it in
                if (headDim != null) {
                    u32(kv, "attention.key_length", headDim.asLong());
                    u32(kv, "attention.value_length", headDim.asLong());
                }
                kv.put("general.file_type", GgufValue.u32(fileType));
                if (llama) {
                    u32(kv, "vocab_size", intParam("vocab_size", 32000, "vocab_size"));
                    u32(kv, "rope.dimension_count", headDim.asLong());
                }
            }
        }
    }

    /** TextModel's RoPE keys: scaling type and factor (linear, yarn, longrope), yarn's extra keys, then freq_base. */
    private void ropeScaling(GgufVocab.Kv kv) {
        ObjectNode rp = ropeParameters();
        JsonNode p = rp.has("full_attention") ? rp.get("full_attention") : rp;
        String type = p.path("rope_type").isTextual() ? p.path("rope_type").textValue() : null;
        if (type != null) {
            JsonNode factor = p.get("factor");
            boolean hasFactor = factor != null && !factor.isNull();
            if (type.equals("linear") && hasFactor) {
                kv.put(k("rope.scaling.type"), GgufValue.str("linear"));
                f32(kv, "rope.scaling.factor", factor.asDouble());
            } else if (type.equals("yarn") && hasFactor) {
                kv.put(k("rope.scaling.type"), GgufValue.str("yarn"));
                f32(kv, "rope.scaling.factor", factor.asDouble());
                JsonNode orig = p.get("original_max_position_embeddings");
                if (orig == null || orig.isNull()) throw new FormatException(dir.resolve("config.json"), "yarn RoPE scaling without original_max_position_embeddings");
                u32(kv, "rope.scaling.original_context_length", orig.asLong());
                if (p.hasNonNull("extrapolation_factor")) f32(kv, "rope.scaling.yarn_ext_factor", p.get("extrapolation_factor").asDouble());
                JsonNode af = p.hasNonNull("attention_factor") ? p.get("attention_factor") : p.get("attn_factor");
                if (af != null && !af.isNull()) f32(kv, "rope.scaling.yarn_attn_factor", af.asDouble());
                if (p.hasNonNull("beta_fast")) f32(kv, "rope.scaling.yarn_beta_fast", p.get("beta_fast").asDouble());
                if (p.hasNonNull("beta_slow")) f32(kv, "rope.scaling.yarn_beta_slow", p.get("beta_slow").asDouble());
            } else if (type.equals("su") || type.equals("longrope")) {
                kv.put(k("rope.scaling.type"), GgufValue.str("longrope"));
            } else if (type.equals("dynamic")) {
                warnings.add("dynamic RoPE scaling has no GGUF key; llama.cpp's converter writes none either");
            } else if (type.equalsIgnoreCase("llama3")) {
                // rope_freqs tensor (see ropeFreqs)
            } else if (!type.equals("default")) {
                warnings.add("unknown RoPE type '" + type + "': no scaling keys written (as llama.cpp's converter)");
            }
        }
        if (p.hasNonNull("rope_theta")) f32(kv, "rope.freq_base", p.get("rope_theta").asDouble());
        if (rp.path("sliding_attention").hasNonNull("rope_theta")) f32(kv, "rope.freq_base_swa", rp.path("sliding_attention").get("rope_theta").asDouble());
    }
}
