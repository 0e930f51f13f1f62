package dev.lowbit.validate;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.quantizers.lora.LoraAdapter;
import dev.lowbit.quantizers.gguf.GgufExport;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Rewriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * `lowbit convert`: rewrite (optional), quantize, validate against the original, write the report. The artifact is
 * built in a staging folder beside OUT and lands in OUT only when the gates pass (or keepOnFail); the report is always
 * written.
 */
public final class Convert {
    private Convert() {}

    public record Result(Quantizer.Result quantized, Validation validation, boolean landed) {}

    public static Result run(Path model, Path out, Rewriter.Options rewrite, Recipe recipe, int[] ids, int ctx, int maxChunks,
                             Validation.Gates gates, Path reportDir, boolean keepOnFail, IntConsumer progress) throws IOException {
        return run(model, out, rewrite, recipe, false, ids, ctx, maxChunks, gates, reportDir, keepOnFail, progress, List.of(),
                Continuations.Request.none());
    }

    /**
     * zstd writes the artifact as .safetensors.zst shards with manifest.json (validated before compression). With LoRA
     * adapters the base is first merged (float32, in the staging folder), and that merged model is both what gets
     * quantized and what the artifact is validated against.
     */
    public static Result run(Path model, Path out, Rewriter.Options rewrite, Recipe recipe, boolean zstd, int[] ids, int ctx, int maxChunks,
                             Validation.Gates gates, Path reportDir, boolean keepOnFail, IntConsumer progress,
                             List<LoraAdapter> loras, Continuations.Request cont) throws IOException {
        return run(model, out, rewrite, recipe, zstd, ids, ctx, maxChunks, gates, reportDir, keepOnFail, progress, loras, Weighting.NONE, cont);
    }

    /** As above, quantizing with calibration (importance, scale search) as weighting says. */
    public static Result run(Path model, Path out, Rewriter.Options rewrite, Recipe recipe, boolean zstd, int[] ids, int ctx, int maxChunks,
                             Validation.Gates gates, Path reportDir, boolean keepOnFail, IntConsumer progress,
                             List<LoraAdapter> loras, Weighting weighting, Continuations.Request cont) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        if (Files.exists(abs) && (!Files.isDirectory(abs) || OutputDir.hasEntries(abs))) throw new FormatException(out, "output already exists and is not an empty folder");
        Files.createDirectories(abs.getParent());
        Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".staging-");
        try {
            Sources in = prepare(model, staging, rewrite, loras);
            Path source = in.source();
            Path artifact = staging.resolve("artifact");
            Quantizer.Result q = Quantizer.run(source, artifact, recipe, false, false, null, List.of(), weighting);
            Validation v = validate(model, in, artifact, ids, ctx, maxChunks, gates, progress, loras, cont).relabel(out.toString());
            boolean land = v.passed() || keepOnFail;
            if (land && zstd) {
                Path packed = staging.resolve("packed");
                Quantizer.run(source, packed, recipe, false, true, null, List.of(), weighting);
                artifact = packed;
            }
            if (land) {
                if (Files.isDirectory(abs)) Files.delete(abs);
                Files.move(artifact, abs, StandardCopyOption.ATOMIC_MOVE);
            }
            if (reportDir != null) v.write(reportDir);
            return new Result(q, v, land);
        } finally {
            OutputDir.deleteTree(staging);
        }
    }

    public record GgufResult(GgufExport.Result gguf, Validation validation, boolean landed) {}

    /**
     * convert to a GGUF file: LoRA merge and rewrite as above, then the GGUF of llama.cpp's file type in the staging
     * folder, validated against the (merged) model by lowbit's engine reading that very file; moved to OUT only when
     * the gates pass (or keepOnFail).
     */
    public static GgufResult runGguf(Path model, Path out, Rewriter.Options rewrite, GgufFileType type, int[] ids, int ctx, int maxChunks,
                                     Validation.Gates gates, boolean keepOnFail, IntConsumer progress, List<LoraAdapter> loras,
                                     Continuations.Request cont) throws IOException {
        return runGguf(model, out, rewrite, type, ids, ctx, maxChunks, gates, keepOnFail, progress, loras, Weighting.NONE, cont);
    }

    /** As above, with an importance matrix as llama-quantize --imatrix. */
    public static GgufResult runGguf(Path model, Path out, Rewriter.Options rewrite, GgufFileType type, int[] ids, int ctx, int maxChunks,
                                     Validation.Gates gates, boolean keepOnFail, IntConsumer progress, List<LoraAdapter> loras,
                                     Weighting weighting, Continuations.Request cont) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        if (Files.exists(abs)) throw new FormatException(out, "output already exists");
        Files.createDirectories(abs.getParent());
        Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".staging-");
        try {
            Sources in = prepare(model, staging, rewrite, loras);
            Path source = in.source();
            Path artifact = staging.resolve(abs.getFileName().toString());
            GgufExport.Result g = GgufExport.run(source, artifact, type, false, null, weighting);
            Validation v = validate(model, in, artifact, ids, ctx, maxChunks, gates, progress, loras, cont).relabel(out.toString());
            boolean land = v.passed() || keepOnFail;
            if (land) Files.move(artifact, abs, StandardCopyOption.ATOMIC_MOVE);
            return new GgufResult(g, v, land);
        } finally {
            OutputDir.deleteTree(staging);
        }
    }

    /** "MODEL + LoRA A (+ LoRA B …)": how reports name a base merged in the staging folder. */
    public static String loraLabel(Path model, List<LoraAdapter> loras) {
        StringBuilder s = new StringBuilder(model.toString());
        for (LoraAdapter a : loras) s.append(" + LoRA ").append(a.dir());
        return s.toString();
    }

    /** What to quantize (source) and what to validate against (base): the model, LoRA-merged in float32 and/or rewritten in staging. */
    private record Sources(Path base, Path source) {}

    private static Sources prepare(Path model, Path staging, Rewriter.Options rewrite, List<LoraAdapter> loras) throws IOException {
        Path base = model, source = model;
        if (!loras.isEmpty()) {
            source = mergedFolder(model, staging);
            Quantizer.merge(model, source, loras, DType.F32, null);
            base = source;
        }
        if (rewrite != null) {
            source = staging.resolve("rewritten").resolve(folderName(model));
            Rewriter.run(base, source, rewrite);
        }
        return new Sources(base, source);
    }

    /**
     * Where a float32 merge of MODEL goes in a staging folder: a folder named as MODEL's, so that what is derived from
     * the folder name (GGUF general.name, as llama.cpp's converter derives it) names the model, not the staging step.
     */
    public static Path mergedFolder(Path model, Path staging) {
        return staging.resolve("merged").resolve(folderName(model));
    }

    private static String folderName(Path model) {
        Path fn = model.toAbsolutePath().normalize().getFileName();
        return fn == null ? "model" : fn.toString();
    }

    private static Validation validate(Path model, Sources in, Path artifact, int[] ids, int ctx, int maxChunks, Validation.Gates gates,
                                       IntConsumer progress, List<LoraAdapter> loras, Continuations.Request cont) throws IOException {
        Validation v = Validation.run(in.base(), artifact, ids, ctx, maxChunks, gates, progress, cont);
        return loras.isEmpty() ? v : v.relabelBase(loraLabel(model, loras));
    }
}
