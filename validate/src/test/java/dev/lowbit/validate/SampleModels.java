package dev.lowbit.validate;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lowbit.samples.Samples;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The models tests run on: the embedded sample always, the shared ones when ../shared is present. */
final class SampleModels {
    private SampleModels() {}

    static Stream<String> all() {
        return Stream.of("embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama");
    }

    static Path dir(String name) {
        if (name.equals("embedded")) return Samples.tinyLlama();
        var p = Samples.shared(name);
        assumeTrue(p.isPresent(), Samples.SHARED_MISSING);
        return p.get();
    }

    static Path sharedEvalText() {
        var p = Samples.shared();
        assumeTrue(p.isPresent(), Samples.SHARED_MISSING);
        return p.get().resolve("eval_text.txt");
    }
}
