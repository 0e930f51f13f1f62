package dev.lowbit.validate;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.quantizers.lora.LoraAdapter;
import dev.lowbit.formats.OutputDir;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Rewriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
        return run(model, out, rewrite, recipe, ids, ctx, maxChunks, gates, reportDir, keepOnFail, progress, java.util.List.of());
    }

    /**
     * With LoRA adapters: the base is first merged (float32, in the staging folder) and that merged model is both
     * what gets quantized and what the artifact is validated against.
     */
    public static Result run(Path model, Path out, Rewriter.Options rewrite, Recipe recipe, int[] ids, int ctx, int maxChunks,
                             Validation.Gates gates, Path reportDir, boolean keepOnFail, IntConsumer progress,
                             java.util.List<LoraAdapter> loras) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        if (Files.exists(abs) && (!Files.isDirectory(abs) || OutputDir.hasEntries(abs))) throw new FormatException(out, "output already exists and is not an empty folder");
        Files.createDirectories(abs.getParent());
        Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".staging-");
        try {
            Path source = model;
            if (!loras.isEmpty()) {
                source = staging.resolve("merged");
                Quantizer.merge(model, source, loras, DType.F32, null);
                model = source;
            }
            if (rewrite != null) {
                source = staging.resolve("rewritten");
                Rewriter.run(model, source, rewrite);
            }
            Path artifact = staging.resolve("artifact");
            Quantizer.Result q = Quantizer.run(source, artifact, recipe, false, false, null);
            Validation v = Validation.run(model, artifact, ids, ctx, maxChunks, gates, progress).relabel(out.toString());
            boolean land = v.passed() || keepOnFail;
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
}
