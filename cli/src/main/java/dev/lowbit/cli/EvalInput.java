package dev.lowbit.cli;

import dev.lowbit.validate.TokenIds;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The evaluation options shared by perplexity, validate and convert: the text or ids, and the chunking. */
final class EvalInput {
    static final class Source {
        @Option(names = "--text", paramLabel = "FILE", description = "UTF-8 text to score, tokenized with the model's tokenizer (no BOS).")
        Path text;

        @Option(names = "--ids", paramLabel = "FILE.i32", description = "Pre-tokenized ids instead of --text: little-endian int32, as llama.cpp writes them.")
        Path ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "512", description = "Tokens per chunk, at least 2 (default ${DEFAULT-VALUE}); the first of each chunk is context only.")
    int ctx;

    @Option(names = "--max-chunks", paramLabel = "N", defaultValue = "0", description = "Score at most N chunks (default 0: all that fit in the text).")
    int maxChunks;

    void check() {
        if (ctx < 2) throw new IllegalArgumentException("--ctx must be at least 2 tokens, not " + ctx);
        if (maxChunks < 0) throw new IllegalArgumentException("--max-chunks must be 0 (all) or positive, not " + maxChunks);
    }

    /** What the input is called in reports: the file given. */
    Path file() {
        return source.ids != null ? source.ids : source.text;
    }

    int[] ids(Path model) throws IOException {
        check();
        if (source.ids != null) {
            requireFile(source.ids, "--ids");
            return TokenIds.read(source.ids);
        }
        return Tokenizer.load(model).encode(readText(source.text), false);
    }

    static void requireFile(Path p, String option) {
        if (!Files.exists(p)) throw new IllegalArgumentException(option + " " + p + ": no such file");
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException(option + " " + p + ": not a regular file");
        if (!Files.isReadable(p)) throw new IllegalArgumentException(option + " " + p + ": permission denied");
    }

    /** The text file, strictly UTF-8; a binary or Latin-1 file is refused with the byte offset of the first bad byte. */
    static String readText(Path p) throws IOException {
        return readText(p, "--text");
    }

    /** As readText, naming the option the file came from in errors. */
    static String readText(Path p, String option) throws IOException {
        requireFile(p, option);
        byte[] b = Files.readAllBytes(p);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            var dec = StandardCharsets.UTF_8.newDecoder();
            var in = ByteBuffer.wrap(b);
            var out = CharBuffer.allocate(b.length + 1);
            dec.decode(in, out, true);
            throw new IllegalArgumentException(option + " " + p + ": not UTF-8 text (invalid byte 0x"
                    + String.format("%02x", b[in.position()] & 0xff) + " at offset " + in.position() + ")"
                    + (option.equals("--text") ? "; give a UTF-8 text file, or token ids with --ids" : ""));
        }
    }
}
