package dev.lowbit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.gguf.GgufConfig;
import dev.lowbit.formats.gguf.GgufFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Checks of evaluation inputs shared by perplexity, validate and convert. */
final class Checks {
    private Checks() {}

    /** config.json of a folder, or the config a .gguf file's metadata describes. */
    static ModelConfig config(Path model) {
        if (GgufFile.isGguf(model) && Files.isRegularFile(model)) {
            try (Arena a = Arena.ofConfined()) {
                return GgufConfig.parse(GgufFile.open(model, a));
            }
        }
        return ModelConfig.read(model);
    }

    /** llama.cpp's warning: a context longer than the model was trained for. */
    static List<String> context(Path model, int ctx) {
        ModelConfig cfg = config(model);
        if (cfg.maxPositions() > 0 && ctx > cfg.maxPositions())
            return List.of(model + " was trained for " + cfg.maxPositions() + " positions (max_position_embeddings), --ctx " + ctx
                    + " goes beyond: expect perplexity to rise (extend the context with lowbit rewrite --rope-scaling first)");
        return List.of();
    }

    /**
     * The candidate is scored on the base's token ids, so both must map ids to the same pieces. Refuses when the
     * vocabularies of tokenizer.json differ (unless allowed); warns when one model has no tokenizer.json.
     */
    static List<String> sameVocabulary(Path base, Path candidate, boolean allow) throws IOException {
        List<String> warn = new ArrayList<>();
        Path tb = base.resolve("tokenizer.json"), tc = candidate.resolve("tokenizer.json");
        ModelConfig cb = config(base), cc = config(candidate);
        String why = null;
        if (cb.vocab() != cc.vocab()) why = "vocab_size " + cb.vocab() + " vs " + cc.vocab();
        else if (Files.isRegularFile(tb) && Files.isRegularFile(tc) && Files.mismatch(tb, tc) != -1) {
            JsonNode b = JsonTree.read(tb), c = JsonTree.read(tc);
            if (!b.path("model").path("vocab").equals(c.path("model").path("vocab"))) why = "their tokenizer.json vocabularies differ";
            else if (!b.path("model").path("merges").equals(c.path("model").path("merges"))) why = "their tokenizer.json merges differ";
            else if (!b.path("added_tokens").equals(c.path("added_tokens"))) why = "their tokenizer.json added tokens differ";
        } else if (Files.isRegularFile(tb) != Files.isRegularFile(tc) && !GgufFile.isGguf(base) && !GgufFile.isGguf(candidate))
            warn.add((Files.isRegularFile(tb) ? candidate : base) + " has no tokenizer.json: assuming both models share a vocabulary");
        if (why != null) {
            if (!allow) throw new IllegalArgumentException(base + " and " + candidate + " do not share a tokenizer (" + why
                    + "): both are scored on the same token ids, so the comparison would be meaningless; pass --allow-tokenizer-mismatch to compare anyway");
            warn.add("comparing models whose tokenizers differ (" + why + ") as --allow-tokenizer-mismatch asks");
        }
        return warn;
    }
}
