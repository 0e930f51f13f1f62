package dev.lowbit.cli;

import dev.lowbit.validate.Continuations;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/** The report's side-by-side continuations (validate and convert): which prompts, how many greedy tokens. */
final class ContinuationOptions {
    @Option(names = "--prompts", paramLabel = "FILE", description = "Prompts for the report's side-by-side greedy continuations of base and candidate, one per line "
            + "(default: the first " + Continuations.Request.DEFAULT_PROMPTS + " lines of the eval text; each cut to "
            + Continuations.Request.DEFAULT_PROMPT_TOKENS + " tokens).")
    Path prompts;

    @Option(names = "--continuations", paramLabel = "N", defaultValue = "" + Continuations.Request.DEFAULT_NEW_TOKENS,
            description = "Greedy new tokens per prompt in the continuations section (default ${DEFAULT-VALUE}); 0 leaves the section out.")
    int newTokens;

    /** The request for a run whose eval input is `input`, tokenized by `model`'s tokenizer. */
    Continuations.Request request(EvalInput input, Path model) throws IOException {
        if (newTokens < 0) throw new IllegalArgumentException("--continuations must be 0 (off) or more new tokens, not " + newTokens);
        if (newTokens == 0) {
            if (prompts != null) throw new IllegalArgumentException("--prompts with --continuations 0: the prompts would not be used");
            return Continuations.Request.none();
        }
        List<String> lines;
        if (prompts != null) {
            lines = Continuations.Request.firstLines(EvalInput.readText(prompts, "--prompts"), Integer.MAX_VALUE);
            if (lines.isEmpty()) throw new IllegalArgumentException("--prompts " + prompts + ": no non-blank line");
        } else if (input.source.text != null) {
            lines = Continuations.Request.firstLines(EvalInput.readText(input.source.text), Continuations.Request.DEFAULT_PROMPTS);
        } else {
            int[] ids = input.ids(model);
            lines = Continuations.Request.firstLines(Tokenizer.load(model).decode(Arrays.copyOf(ids, Math.min(ids.length, 1024))),
                    Continuations.Request.DEFAULT_PROMPTS);
        }
        return new Continuations.Request(lines, Continuations.Request.DEFAULT_PROMPT_TOKENS, newTokens);
    }
}
