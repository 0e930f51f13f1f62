package dev.lowbit.quantizers.gguf;

import dev.lowbit.formats.FillableOutput;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufWriter;
import dev.lowbit.quantizers.Blocks;
import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.WeightEncoder;
import dev.lowbit.quantizers.format.LaneEncoders;
import dev.lowbit.quantizers.format.WeightFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * Hugging Face model folder → GGUF, as llama.cpp makes it: {@code convert_hf_to_gguf.py --outtype f32|f16|bf16} for
 * the float file types, and {@code llama-quantize} (default recipe, no importance matrix) applied to the
 * converter's F32 file for the others. The metadata, tensor order, per-tensor types and bytes are theirs.
 */
public final class GgufExport {
    private GgufExport() {}

    /** One tensor of the plan: GGUF name, chosen type, ggml dims, bytes in the file, and the HF tensor it comes from. */
    public record TensorPlan(String name, String type, long[] ne, long bytes, String source) {}

    /**
     * What was (or would be) written: the file type and its {@code general.file_type}, architecture, tensors, file size,
     * parameter count, bits per weight over the tensor data, warnings and seconds.
     */
    public record Result(String fileType, int fileTypeId, String arch, List<TensorPlan> tensors, long fileBytes, long params,
            double bitsPerWeight, List<String> warnings, double seconds) {}

    /** The metadata and tensors of the file, without writing it. */
    public record Plan(LinkedHashMap<String, GgufValue> kv, List<TensorPlan> tensors, List<String> warnings) {}

    /** Plans the file: metadata and per-tensor types, from headers and config only. */
    public static Plan plan(Path model, GgufFileType ft) {
        try (HfModel m = HfModel.open(model)) {
            Built b = build(m, ft);
            List<TensorPlan> t = new ArrayList<>();
            for (int i = 0; i < b.items.size(); i++)
                t.add(new TensorPlan(b.items.get(i).name(), b.types.get(i).toString(), b.items.get(i).ne(), b.types.get(i).bytes(b.items.get(i).ne()), b.items.get(i).source()));
            return new Plan(b.kv, t, List.copyOf(m.warnings));
        }
    }

    private record Built(LinkedHashMap<String, GgufValue> kv, List<HfModel.Item> items, List<GgmlType> types) {}

    private static Built build(HfModel m, GgufFileType ft) {
        List<HfModel.Item> items = new ArrayList<>(m.items);
        List<GgmlType> types = new ArrayList<>();
        LinkedHashMap<String, GgufValue> kv;
        if (ft.byConverter()) {
            kv = m.metadata(ft.id).map;
            for (HfModel.Item i : items) types.add(GgufRecipe.converterType(ft, i.name(), i.shape().length));
        } else {
            // llama-quantize: the converter's F32 file's metadata with general.quantization_version and general.file_type
            // set again (gguf_set_val moves them to the end), tensors in the loader's order.
            kv = m.metadata(GgufFileType.F32.id).map;
            kv.remove("general.quantization_version");
            kv.remove("general.file_type");
            kv.put("general.quantization_version", GgufValue.u32(2));
            kv.put("general.file_type", GgufValue.u32(ft.id));
            items.sort((a, b) -> GgufRecipe.QUANTIZE_ORDER.compare(a.name(), b.name()));
            List<GgufRecipe.TensorIn> in = items.stream().map(i -> new GgufRecipe.TensorIn(i.name(), i.ne())).toList();
            types.addAll(GgufRecipe.quantizeTypes(m.recipeModel(), ft, in));
        }
        return new Built(kv, items, types);
    }

    /**
     * Writes the GGUF file (built beside out, renamed into place when complete), or only plans it when dryRun.
     * progress receives the number of tensor bytes written so far.
     */
    public static Result run(Path model, Path out, GgufFileType ft, boolean dryRun, LongConsumer progress) throws IOException {
        return run(model, out, ft, dryRun, progress, Weighting.NONE, null);
    }

    /** As run(…), with an importance matrix as llama-quantize --imatrix (tensors by GGUF name; those without an entry unweighted). */
    public static Result run(Path model, Path out, GgufFileType ft, boolean dryRun, LongConsumer progress, Weighting weighting) throws IOException {
        return run(model, out, ft, dryRun, progress, weighting, null);
    }

    /** As run(…), each quantized 2-D tensor encoded by encoder (under its HF name) when it takes it (GPTQ). */
    public static Result run(Path model, Path out, GgufFileType ft, boolean dryRun, LongConsumer progress, WeightEncoder encoder) throws IOException {
        return run(model, out, ft, dryRun, progress, Weighting.NONE, encoder);
    }

    /** As run(…), with importance weighting and, for the tensors it takes, another encoder (GPTQ; null: none). */
    public static Result run(Path model, Path out, GgufFileType ft, boolean dryRun, LongConsumer progress, Weighting weighting, WeightEncoder encoder) throws IOException {
        long t0 = System.nanoTime();
        try (HfModel m = HfModel.open(model)) {
            Built b = build(m, ft);
            if (weighting.imatrixFile() != null && weighting.calibration() instanceof Imatrix im) imatrixKeys(b.kv, weighting.imatrixFile(), im);
            List<GgufWriter.TensorSpec> specs = new ArrayList<>();
            List<TensorPlan> plan = new ArrayList<>();
            long params = 0, dataBytes = 0, q6k = 0;
            for (int i = 0; i < b.items.size(); i++) {
                HfModel.Item it = b.items.get(i);
                GgmlType type = b.types.get(i);
                long[] ne = it.ne();
                long bytes = type.bytes(ne);
                params += it.numel();
                if (type == GgmlType.Q6_K) q6k += it.numel();
                dataBytes += bytes;
                plan.add(new TensorPlan(it.name(), type.toString(), ne, bytes, it.source()));
                specs.add(new GgufWriter.TensorSpec(it.name(), type.id, ne, bytes, o -> writeTensor(it, type, ne, o, weighting, encoder)));
            }
            LaneEncoders.forJob(params, q6k);
            long fileBytes = GgufWriter.fileSize(b.kv, specs);
            if (!dryRun) GgufWriter.write(out, b.kv, specs, progress == null ? null : progress::accept);
            double secs = (System.nanoTime() - t0) / 1e9;
            return new Result(ft.name(), ft.id, m.arch, plan, fileBytes, params, params == 0 ? 0 : 8.0 * dataBytes / params, List.copyOf(m.warnings), secs);
        }
    }

    /**
     * What llama-quantize --imatrix FILE records, after general.file_type and in this order (tools/quantize: its
     * kv overrides): the file as named on the command line and the first dataset, each cut to 127 bytes (here at a
     * character boundary, where llama.cpp may cut a UTF-8 sequence), the number of entries, and the chunk count when
     * the file has one.
     */
    static void imatrixKeys(LinkedHashMap<String, GgufValue> kv, String file, Imatrix m) {
        kv.put("quantize.imatrix.file", GgufValue.str(cut127(file)));
        if (!m.datasets().isEmpty()) kv.put("quantize.imatrix.dataset", GgufValue.str(cut127(m.datasets().get(0))));
        kv.put("quantize.imatrix.entries_count", GgufValue.u32(m.stats().size()));
        if (m.chunkCount() > 0) kv.put("quantize.imatrix.chunks_count", GgufValue.u32(m.chunkCount()));
    }

    /** The longest prefix of whole characters within 127 bytes of UTF-8 (llama.cpp's override strings hold 127). */
    private static String cut127(String s) {
        int bytes = 0, end = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end), n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > 127) break;
            bytes += n;
            end += Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** The tensor's bytes: float32 values (after the converter's rewrites) encoded row by row. */
    private static void writeTensor(HfModel.Item it, GgmlType type, long[] ne, OutputStream out, Weighting weighting, WeightEncoder encoder) throws IOException {
        int cols = (int) ne[0];
        WeightFormat f = type.format();
        if (it.rows() != null && encoder == null) {
            streamRows(f, it.rows(), Math.toIntExact(it.numel() / cols), cols, importance(f, weighting, it, cols), out);
            return;
        }
        float[] v = it.data().get();
        int rows = v.length / Math.max(1, cols);
        if (type == GgmlType.F32) {
            ByteBuffer bb = ByteBuffer.allocate(4 * Math.min(v.length, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v.length; ) {
                bb.clear();
                int n = Math.min(v.length - i, bb.capacity() / 4);
                bb.asFloatBuffer().put(v, i, n);
                out.write(bb.array(), 0, 4 * n);
                i += n;
            }
            return;
        }
        if (encoder != null && ne.length == 2) {
            byte[] all = encoder.encode(it.source(), v, rows, cols, f);
            if (all != null) {
                out.write(all);
                return;
            }
        }
        out.write(quantizeRows(f, v, rows, cols, importance(f, weighting, it, cols), true));
    }

    private static float[] importance(WeightFormat f, Weighting weighting, HfModel.Item it, int cols) {
        float[] imp = f.usesImportance() ? weighting.importance(it.name()) : null;
        if (imp != null && imp.length != cols)
            throw new IllegalArgumentException("tensor '" + it.name() + "': the importance matrix has " + imp.length + " columns, the weight " + cols);
        return imp;
    }

    /** Output bytes encoded per chunk before it is written. */
    private static final int CHUNK_BYTES = 8 << 20;
    /** Rows one task converts and encodes at a time. */
    private static final int TASK_ROWS = 16;
    /** Rows one task copies at a time when the checkpoint holds the output's bytes already (BF16 to BF16). */
    private static final int COPY_ROWS = 256;
    private static final ThreadLocal<float[]> ROW_BUFFER = new ThreadLocal<>();

    /**
     * As {@link #quantizeRows}, reading the rows from the checkpoint: each task converts its few rows to float and
     * encodes them, so reading, converting and encoding all run on every core and no float copy of the tensor exists.
     * Chunks of about {@value #CHUNK_BYTES} bytes are encoded straight into the output's buffer
     * ({@link FillableOutput}), in order; the bytes are the same. Rows already stored in
     * the output's format are copied as they are ({@link WeightFormat#copies}); when they are also in the output's
     * order, the mapped checkpoint bytes are handed to the writer without a copy (BF16 to BF16: the kernel's copy into
     * the file is the only one).
     */
    static void streamRows(WeightFormat f, HfModel.Rows src, int rows, int cols, float[] importance, OutputStream out) throws IOException {
        int rowBytes = Math.toIntExact(f.rowBytes(cols));
        int chunkRows = Math.max(1, Math.min(rows, CHUNK_BYTES / rowBytes));
        boolean asStored = f.copies(src.tensor().dtype());
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0), base = r0;
            MemorySegment stored = asStored ? src.stored(base, n) : null;
            if (stored != null) { // rows in their order: the checkpoint's bytes go out as they are when no NaN needs quieting
                AtomicBoolean changed = new AtomicBoolean();
                Blocks.parallel(n, COPY_ROWS, (lo, hi) -> {
                    if (!f.storedAsEncoded(stored, (long) lo * rowBytes, (hi - lo) * cols)) changed.set(true);
                });
                if (!changed.get()) {
                    FillableOutput.put(out, stored);
                    continue;
                }
            }
            FillableOutput.fill(out, Math.multiplyExact(n, rowBytes), (data, at) -> {
                if (asStored) Blocks.parallel(n, COPY_ROWS, (lo, hi) -> src.copy(base + lo, hi - lo, f, data, at + lo * rowBytes));
                else Blocks.parallel(n, TASK_ROWS, (lo, hi) -> {
                    float[] buf = ROW_BUFFER.get();
                    if (buf == null || buf.length < TASK_ROWS * cols) ROW_BUFFER.set(buf = new float[TASK_ROWS * cols]);
                    src.read(base + lo, hi - lo, buf);
                    for (int r = lo; r < hi; r++) f.quantize(buf, (r - lo) * cols, cols, data, at + r * rowBytes, importance, 0);
                });
            });
        }
    }

    /**
     * The rows of v [rows × cols] in format f (weighted by importance per column when not null), concatenated. In parallel, row ranges go to the quantizer pool; each row
     * is encoded independently into its own bytes, so the result is the same as the sequential one, byte for byte.
     */
    static byte[] quantizeRows(WeightFormat f, float[] v, int rows, int cols, float[] importance, boolean parallel) {
        int rowBytes = Math.toIntExact(f.rowBytes(cols));
        byte[] data = new byte[Math.multiplyExact(rows, rowBytes)];
        Blocks.RangeBody body = (lo, hi) -> {
            for (int r = lo; r < hi; r++) f.quantize(v, r * cols, cols, data, r * rowBytes, importance, 0);
        };
        if (parallel) Blocks.parallel(rows, Math.max(1, rows / (8 * Blocks.threads())), body);
        else body.run(0, rows);
        return data;
    }
}
