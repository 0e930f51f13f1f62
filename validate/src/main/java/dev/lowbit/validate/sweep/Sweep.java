package dev.lowbit.validate.sweep;

import dev.lowbit.formats.OutputDir;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.WeightEncoder;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.gguf.GgufExport;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.validate.DriftReport;
import dev.lowbit.validate.Validation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * `lowbit sweep`: each recipe quantizes the model into a temp folder, and each result (and each GGUF file given) is
 * validated against the original over the same chunks by lowbit's engine, embeddings and lm_head in float for every
 * candidate. The staging folder is removed at the end, whatever happens.
 */
public final class Sweep {
    private Sweep() {}

    /** A row of the report. bitsPerWeight: quantized tensors' bytes × 8 / their elements (embeddings, lm_head, 1-D excluded). */
    public record Row(String recipe, String kind, double bitsPerWeight, long fileBytes, long quantizedParams, double meanKld,
                      double kldError, double sameTop1Percent, double ppl, double basePpl, double quantizeSeconds) {}

    /** Told which recipe starts (index from 0), and the chunks done of the one under way. */
    public interface Listener {
        void recipe(int index, int total, String label);

        void chunks(int done);
    }

    /**
     * gptq: the encoder of the +gptq recipes (null when none asks for it). The quantized models are made in a hidden
     * staging folder beside out (".OUT.staging-*", what the CLI's Ctrl-C cleanup removes), deleted at the end, or
     * moved to keep (a model folder, or RECIPE.gguf) when keep is not null.
     */
    public static List<Row> run(Path model, List<SweepRecipe> recipes, int[] ids, int ctx, int maxChunks, WeightEncoder gptq,
                                Listener listener, Path out, Path keep) throws IOException {
        for (SweepRecipe r : recipes)
            if (r.gptq() && gptq == null) throw new IllegalArgumentException(r.label() + ": +gptq needs calibration (--calibrate TEXT)");
        Path abs = out.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".staging-");
        try {
            List<Row> rows = new ArrayList<>();
            Path floatBase = null;
            IntConsumer chunks = listener == null ? null : listener::chunks;
            for (int i = 0; i < recipes.size(); i++) {
                SweepRecipe r = recipes.get(i);
                if (listener != null) listener.recipe(i, recipes.size(), r.label());
                Path dir = tmp.resolve("r" + i);
                long t0 = System.nanoTime();
                double seconds = 0;
                Path judged;
                long fileBytes;
                FloatEdges.Quantized q;
                if (r.recipe() != null) {
                    Quantizer.Result res = Quantizer.run(model, dir, r.recipe(), false, false, null, List.of(), Weighting.NONE, r.gptq() ? gptq : null);
                    seconds = (System.nanoTime() - t0) / 1e9;
                    judged = dir;
                    fileBytes = res.bytesOut();
                    q = new FloatEdges.Quantized(res.quantizedBytesOut(), res.quantizedParams());
                } else {
                    Path gguf = r.file();
                    if (gguf == null) {
                        Files.createDirectories(dir);
                        gguf = dir.resolve("model.gguf");
                        GgufExport.run(model, gguf, r.gguf(), false, null, Weighting.NONE, r.gptq() ? gptq : null);
                        seconds = (System.nanoTime() - t0) / 1e9;
                    } else if (!Files.isRegularFile(gguf) || !GgufFile.isGguf(gguf)) {
                        throw new IllegalArgumentException("--candidates " + gguf + ": not a GGUF file");
                    }
                    if (floatBase == null) {
                        floatBase = tmp.resolve("base-F32.gguf");
                        GgufExport.run(model, floatBase, GgufFileType.F32, false, null);
                    }
                    fileBytes = Files.size(gguf);
                    q = FloatEdges.quantized(gguf);
                    judged = tmp.resolve("judged-" + i + ".gguf");
                    FloatEdges.write(gguf, floatBase, judged);
                }
                Validation v = Validation.run(model, judged, ids, ctx, maxChunks, new Validation.Gates(null, null, null), chunks);
                DriftReport d = v.drift();
                rows.add(new Row(r.label(), r.kind(), q.bitsPerWeight(), fileBytes, q.params(), d.kld().mean(), d.kld().error(),
                        d.sameTop1Percent(), d.candidate().ppl(), d.base().ppl(), seconds));
                if (keep != null && r.file() == null) {
                    Files.createDirectories(keep);
                    boolean folder = r.recipe() != null;
                    Path to = keep.resolve(r.label() + (folder ? "" : ".gguf"));
                    if (Files.exists(to)) throw new IllegalArgumentException("--keep " + keep + ": " + to.getFileName() + " already exists");
                    Files.move(folder ? dir : dir.resolve("model.gguf"), to);
                }
                OutputDir.deleteTree(dir);
                if (!judged.equals(dir)) Files.deleteIfExists(judged);
            }
            return rows;
        } finally {
            OutputDir.deleteTree(tmp);
        }
    }
}
