package dev.lowbit.cli;

import dev.lowbit.validate.TokenIds;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The evaluation options shared by perplexity and validate: the text or ids, and the chunking. */
final class EvalInput {
    static final class Source {
        @Option(names = "--text", paramLabel = "FILE", description = "UTF-8 text, tokenized without BOS.")
        Path text;

        @Option(names = "--ids", paramLabel = "FILE.i32", description = "Pre-tokenized ids, little-endian int32.")
        Path ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--ctx", defaultValue = "512", description = "Tokens per chunk (default ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = "--max-chunks", defaultValue = "0", description = "Score at most N chunks (0 = all).")
    int maxChunks;

    int[] ids(Path model) throws IOException {
        if (source.ids != null) return TokenIds.read(source.ids);
        return Tokenizer.load(model).encode(Files.readString(source.text), false);
    }
}
