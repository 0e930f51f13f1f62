package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of config.json: ModelConfig.read gives a config whose sizes are usable, or a
 * FormatException. Regression inputs: src/test/resources/dev/lowbit/formats/ConfigFuzzTestInputs/config.
 */
class ConfigFuzzTest {
    static Stream<Named<byte[]>> seeds() {
        return FuzzSeeds.files("config.json").map(f -> FuzzSeeds.named(f, FuzzSeeds.read(f)));
    }

    @MethodSource("seeds")
    @DictionaryEntries({"\"model_type\"", "\"architectures\"", "\"gpt2\"", "\"bloom\"", "\"llama\"", "\"mistral\"", "\"qwen2\"",
            "\"n_head\"", "\"n_embd\"", "\"n_layer\"", "\"n_inner\"", "\"n_positions\"", "\"n_embed\"", "\"hidden_size\"",
            "\"num_attention_heads\"", "\"num_key_value_heads\"", "\"head_dim\"", "\"intermediate_size\"", "\"vocab_size\"",
            "\"rope_parameters\"", "\"rope_scaling\"", "\"rope_theta\"", "\"factor\"", "\"original_max_position_embeddings\"",
            "\"lowbit_model_type\"", "0", "-1", "null", "2147483648", "1e400", "NaN", "[]", "{}"})
    @FuzzTest(maxDuration = "15s")
    void config(byte[] input) throws IOException {
        Path file = FuzzSeeds.scratch().resolve("config.json");
        Files.write(file, input);
        ModelConfig c;
        try {
            c = ModelConfig.read(file);
        } catch (FormatException e) {
            Fuzz.checkMessage(e, file);
            return;
        }
        assertNotNull(c.arch());
        for (int v : new int[] {c.hidden(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(), c.vocab()})
            assertTrue(v > 0, "sizes must be positive: " + c);
        assertNotNull(c.rope());
        c.savedDtype();
    }
}
