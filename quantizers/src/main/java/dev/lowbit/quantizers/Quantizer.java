package dev.lowbit.quantizers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.Manifest;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.TensorSource;
import dev.lowbit.quantizers.format.LaneEncoders;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.lora.LoraAdapter;
import dev.lowbit.quantizers.lora.MergedSource;

/**
 * `lowbit quantize`: a model folder in, a smaller one out, tensor by tensor from the mapped input to the writer. The
 * output is built in a temp folder beside OUT and renamed into place only when everything succeeded.
 */
public final class Quantizer {
    private Quantizer() {}

    /** GPT-2's Conv1D weights, stored [in, out]: quantized in the [out, in] orientation bitsandbytes uses. */
    public static final Pattern CONV1D = Pattern.compile(".*\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
    public static final long SHARD_BYTES = 5_000_000_000L;

    public record Result(List<TensorReport> tensors, long bytesIn, long bytesOut, long quantizedParams, long quantizedBytesOut,
                         double seconds) {
        /** Bits per weight of the quantized tensors, scales and all. */
        public double bitsPerWeight() {
            return quantizedParams == 0 ? 0 : 8.0 * quantizedBytesOut / quantizedParams;
        }

        public double gbPerSecond() {
            return seconds == 0 ? 0 : bytesIn / seconds / 1e9;
        }
    }

    public static Result run(Path model, Path out, Recipe recipe, boolean dryRun, boolean zstd, LongConsumer progress) throws IOException {
        return run(model, out, recipe, dryRun, zstd, progress, List.of());
    }

    /** As run(…), with LoRA adapters merged into the base on the fly (W + scale·B·A, float32) before quantizing. */
    public static Result run(Path model, Path out, Recipe recipe, boolean dryRun, boolean zstd, LongConsumer progress,
                             List<LoraAdapter> loras) throws IOException {
        return run(model, out, recipe, dryRun, zstd, progress, loras, Weighting.NONE, null);
    }

    /** As run(…), quantizing with calibration (importance per weight, scale search) as weighting says. */
    public static Result run(Path model, Path out, Recipe recipe, boolean dryRun, boolean zstd, LongConsumer progress,
                             List<LoraAdapter> loras, Weighting weighting) throws IOException {
        return run(model, out, recipe, dryRun, zstd, progress, loras, weighting, null);
    }

    /** As run(…), each quantized weight encoded by encoder when it takes it (GPTQ), else by the format's encoder. */
    public static Result run(Path model, Path out, Recipe recipe, boolean dryRun, boolean zstd, LongConsumer progress,
                             List<LoraAdapter> loras, WeightEncoder encoder) throws IOException {
        return run(model, out, recipe, dryRun, zstd, progress, loras, Weighting.NONE, encoder);
    }

    /** As run(…), with calibration weighting and, for the weights it takes, another encoder (GPTQ; null: none). */
    public static Result run(Path model, Path out, Recipe recipe, boolean dryRun, boolean zstd, LongConsumer progress,
                             List<LoraAdapter> loras, Weighting weighting, WeightEncoder encoder) throws IOException {
        long start = System.nanoTime();
        ModelConfig cfg = ModelConfig.read(model);
        List<TensorReport> reports = Collections.synchronizedList(new ArrayList<>());
        try (Checkpoint ck = Checkpoint.open(model)) {
            long[] done = {0};
            Consumer<TensorReport> onDone = r -> {
                reports.add(r);
                synchronized (done) {
                    done[0] += r.bytesIn();
                    if (progress != null) progress.accept(done[0]);
                }
            };
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            List<TensorSource> sources = new ArrayList<>();
            List<String> kept = new ArrayList<>(), keptLinear = new ArrayList<>();
            if (recipe.lmHead() && cfg.tiedEmbeddings())
                throw new IllegalArgumentException("--lm-head: this model ties lm_head to its input embedding, which stays unquantized");
            checkLoraBase(model, cfg, ck, loras);
            List<Tensor> tensors = new ArrayList<>(ck.tensors());
            tensors.sort(Comparator.comparing(Tensor::name));
            LaneEncoders.forJob(tensors.stream().mapToLong(Tensor::numel).sum());
            for (Tensor t : tensors) {
                String why = recipe.keepReason(t);
                MergedSource merged = MergedSource.of(t, loras, false);
                if (why != null) {
                    kept.add(t.name());
                    if (t.rank() == 2 && !Recipe.isEmbedding(t.name()) && !t.name().startsWith("lm_head")) keptLinear.add(t.name());
                    sources.add(merged == null ? kept(t, why, onDone)
                            : WeightQuantizer.convert(t.name(), t.shape(), t.byteSize(), merged, t.dtype(), "kept (LoRA merged): " + why, onDone));
                } else if (recipe.scheme().isHalf()) {
                    DType to = recipe.scheme() == Scheme.FP16 ? DType.F16 : DType.BF16;
                    sources.add(WeightQuantizer.convert(t.name(), t.shape(), t.byteSize(), merged != null ? merged : FloatSource.of(t), to, recipe.scheme().cliName(), onDone));
                } else {
                    boolean conv1d = cfg.arch() == Architecture.GPT2 && CONV1D.matcher(t.name()).matches();
                    FloatSource src = merged != null ? MergedSource.of(t, loras, conv1d) : conv1d ? FloatSource.transposed(t) : FloatSource.of(t);
                    sources.addAll(new WeightQuantizer(recipe, t, src, onDone, weighting, encoder).parts(metadata));
                }
            }
            if (recipe.layout() == Layout.LOWBIT && !recipe.scheme().isHalf()) metadata.put("lowbit.format", Integer.toString(Layout.LOWBIT_FORMAT));
            if (dryRun) return plan(ck, recipe, sources, kept, start);
            OutputDir.write(out, tmp -> {
                SafetensorsWriter.writeSharded(tmp, metadata, sources, SHARD_BYTES, false);
                OutputDir.copyOthers(model, tmp);
                ModelConfig.write(rewriteConfig(cfg, recipe, keptLinear), tmp.resolve("config.json"));
                if (zstd) Manifest.compress(tmp, 3);
            });
            return summarize(reports, ck, sources, start);
        } catch (IllegalArgumentException e) {
            // ForkJoin rethrows a worker's exception as a new one of the same type caused by it (message = cause.toString()):
            // report the original message, not "java.lang.IllegalArgumentException: ..."
            Throwable root = e;
            while (root.getCause() instanceof IllegalArgumentException c) root = c;
            throw new FormatException(model, root.getMessage());
        }
    }

    /** LoRA merges go into a float base, and every tensor an adapter names must exist there. */
    static void checkLoraBase(Path model, ModelConfig cfg, Checkpoint ck, List<LoraAdapter> loras) {
        if (loras.isEmpty()) return;
        if (cfg.raw().has("quantization_config"))
            throw new FormatException(model, "is quantized: merge LoRA adapters into the float base model (merging into quantized weights "
                    + "would add the update to rounded values and round again), then quantize");
        for (LoraAdapter a : loras)
            for (String target : a.targets())
                if (!ck.has(target)) throw new FormatException(a.dir(), target, "the adapter updates this tensor, which the base model " + model + " does not have");
    }

    /**
     * `lowbit merge`: the base with LoRA adapters merged, every floating tensor written as `dtype` (null: each
     * tensor's own dtype), tensor by tensor from the mapped base; config.json's dtype follows `dtype`.
     */
    public static Result merge(Path model, Path out, List<LoraAdapter> loras, DType dtype, LongConsumer progress) throws IOException {
        long start = System.nanoTime();
        ModelConfig cfg = ModelConfig.read(model);
        if (loras.isEmpty()) throw new IllegalArgumentException("no adapter to merge");
        List<TensorReport> reports = Collections.synchronizedList(new ArrayList<>());
        try (Checkpoint ck = Checkpoint.open(model)) {
            checkLoraBase(model, cfg, ck, loras);
            long[] done = {0};
            Consumer<TensorReport> onDone = r -> {
                reports.add(r);
                synchronized (done) {
                    done[0] += r.bytesIn();
                    if (progress != null) progress.accept(done[0]);
                }
            };
            List<TensorSource> sources = new ArrayList<>();
            List<Tensor> tensors = new ArrayList<>(ck.tensors());
            tensors.sort(Comparator.comparing(Tensor::name));
            for (Tensor t : tensors) {
                MergedSource merged = MergedSource.of(t, loras, false);
                DType to = dtype != null && t.dtype().isFloating() ? dtype : t.dtype();
                if (merged == null && to == t.dtype()) sources.add(kept(t, "unchanged", onDone));
                else sources.add(WeightQuantizer.convert(t.name(), t.shape(), t.byteSize(), merged != null ? merged : FloatSource.of(t), to,
                        merged != null ? "merged" : "converted", onDone));
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            OutputDir.write(out, tmp -> {
                SafetensorsWriter.writeSharded(tmp, metadata, sources, SHARD_BYTES, false);
                OutputDir.copyOthers(model, tmp);
                ObjectNode c = cfg.raw().deepCopy();
                if (dtype != null) {
                    String dt = dtype.torchName();
                    if (c.has("torch_dtype") || !c.has("dtype")) c.put("torch_dtype", dt);
                    if (c.has("dtype")) c.put("dtype", dt);
                }
                ModelConfig.write(c, tmp.resolve("config.json"));
            });
            return summarize(reports, ck, sources, start);
        } catch (IllegalArgumentException e) {
            throw new FormatException(model, e.getMessage());
        }
    }

    private static TensorSource kept(Tensor t, String why, Consumer<TensorReport> onDone) {
        TensorSource copy = TensorSource.of(t);
        return new TensorSource() {
            public String name() { return t.name(); }
            public DType dtype() { return t.dtype(); }
            public long[] shape() { return t.shape(); }

            public void writeTo(OutputStream out) throws IOException {
                copy.writeTo(out);
                onDone.accept(new TensorReport(t.name(), "kept: " + why, t.shape(), t.byteSize(), t.byteSize(), null));
            }
        };
    }

    private static Result plan(Checkpoint ck, Recipe recipe, List<TensorSource> sources, List<String> kept, long start) {
        Map<String, Long> outBytes = new LinkedHashMap<>();
        for (TensorSource s : sources) outBytes.merge(owner(ck, s.name()), s.byteSize(), Long::sum);
        List<TensorReport> rows = new ArrayList<>();
        for (Tensor t : ck.tensors()) {
            String action = kept.contains(t.name()) ? "kept: " + recipe.keepReason(t) : recipe.scheme().cliName();
            rows.add(new TensorReport(t.name(), action, t.shape(), t.byteSize(), outBytes.getOrDefault(t.name(), 0L), null));
        }
        return summarize(rows, ck, sources, start);
    }

    /** The input tensor an output part belongs to: the longest input name that prefixes it. */
    private static String owner(Checkpoint ck, String part) {
        for (String p = part; ; p = p.substring(0, p.lastIndexOf('.'))) {
            if (ck.has(p)) return p;
            if (ck.has(p + ".weight")) return p + ".weight";
            if (p.lastIndexOf('.') < 0) return part;
        }
    }

    private static Result summarize(List<TensorReport> reports, Checkpoint ck, List<TensorSource> sources, long start) {
        List<TensorReport> rows = new ArrayList<>(reports);
        rows.sort(Comparator.comparing(TensorReport::name));
        long in = 0, out = 0, qParams = 0, qOut = 0;
        for (Tensor t : ck.tensors()) in += t.byteSize();
        for (TensorSource s : sources) out += s.byteSize();
        for (TensorReport r : rows) {
            if (!r.action().startsWith("kept")) {
                qParams += Tensor.numel(r.shape());
                qOut += r.bytesOut();
            }
        }
        return new Result(rows, in, out, qParams, qOut, (System.nanoTime() - start) / 1e9);
    }

    /**
     * llm_int8_skip_modules for the hf-bnb config. null (what transformers itself writes) lets transformers keep the
     * output embedding and anything tied to the input embedding unquantized, which is exactly lowbit's default. A list
     * replaces that decision, so it is written only when lowbit kept other linear layers (--keep, --only) or quantized
     * lm_head (--lm-head), and then it names every module stored in float, lm_head included unless it was quantized:
     * an empty list would make transformers wrap GPT-2's and BLOOM's tied lm_head as a 4-bit layer and crash.
     */
    static List<String> skipModules(ModelConfig cfg, Recipe r, List<String> keptLinear) {
        List<String> linear = new ArrayList<>();
        for (String n : keptLinear) linear.add(n.endsWith(".weight") ? n.substring(0, n.length() - ".weight".length()) : n);
        boolean lmHeadQuantized = r.lmHead() && !cfg.tiedEmbeddings();
        if (linear.isEmpty() && !lmHeadQuantized) return null;
        if (!lmHeadQuantized) linear.add("lm_head");
        return linear;
    }

    static ObjectNode rewriteConfig(ModelConfig cfg, Recipe r, List<String> keptLinear) {
        ObjectNode c = cfg.raw().deepCopy();
        if (r.scheme().isHalf()) {
            String dt = r.scheme() == Scheme.FP16 ? "float16" : "bfloat16";
            if (c.has("torch_dtype") || !c.has("dtype")) c.put("torch_dtype", dt);
            if (c.has("dtype")) c.put("dtype", dt);
            return c;
        }
        ObjectNode q = c.putObject("quantization_config");
        if (r.layout() == Layout.HF_BNB) {
            boolean four = r.scheme() != Scheme.INT8;
            q.put("_load_in_4bit", four).put("_load_in_8bit", !four);
            q.put("bnb_4bit_compute_dtype", r.computeDtype() != null ? r.computeDtype() : "float32"); // BitsAndBytesConfig's default
            q.put("bnb_4bit_quant_storage", "uint8");
            q.put("bnb_4bit_quant_type", r.scheme() == Scheme.NF4 ? "nf4" : "fp4"); // int8 folders carry the default, fp4, as transformers writes
            q.put("bnb_4bit_use_double_quant", r.doubleQuant());
            q.put("llm_int8_enable_fp32_cpu_offload", false);
            q.put("llm_int8_has_fp16_weight", false);
            List<String> skip = skipModules(cfg, r, keptLinear);
            if (skip == null) q.putNull("llm_int8_skip_modules");
            else skip.forEach(q.putArray("llm_int8_skip_modules")::add);
            q.put("llm_int8_threshold", 6.0);
            q.put("load_in_4bit", four).put("load_in_8bit", !four);
            q.put("quant_method", "bitsandbytes");
        } else {
            // transformers must refuse this folder, not load it with random weights: it resolves model_type before
            // anything else and stops with "model type `<this text>` ... does not recognize this architecture".
            c.put(ModelConfig.LOWBIT_MODEL_TYPE_KEY, cfg.raw().path("model_type").asText());
            c.put("model_type", ModelConfig.LOWBIT_MODEL_TYPE);
            q.put("quant_method", "lowbit").put("format", Layout.LOWBIT_FORMAT).put("scheme", r.scheme().cliName())
                    .put("block", r.block()).put("double_quant", r.doubleQuant());
        }
        return c;
    }
}
