package dev.lowbit.validate;

import dev.lowbit.samples.Samples;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The models tests run on: the embedded sample always, the shared ones when ../shared is present. */
final class SampleModels {
    private SampleModels() {}

    static Stream<String> all() {
        return Stream.of("embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama");
    }

    static Stream<String> shared() {
        return Stream.of("tiny-gpt2", "tiny-bloom", "tiny-llama");
    }

    static Path dir(String name) {
        if (name.equals("embedded")) return Samples.tinyLlama();
        return Samples.requireShared(name);
    }

    static Path sharedEvalText() {
        return Samples.requireShared("eval_text.txt");
    }
}
