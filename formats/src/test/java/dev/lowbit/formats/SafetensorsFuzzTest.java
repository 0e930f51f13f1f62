package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of the safetensors header reader: any input is either a valid file or a
 * FormatException; anything else (another exception, a hang, an OutOfMemoryError) is a finding.
 * Regression inputs live in src/test/resources/dev/lowbit/formats/SafetensorsFuzzTestInputs/file.
 */
class SafetensorsFuzzTest {
    static final Path NAME = Path.of("fuzz.safetensors");

    static Stream<Named<byte[]>> seeds() {
        return FuzzSeeds.safetensors();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "20s")
    void file(byte[] input) {
        SafetensorsFile f;
        try {
            f = SafetensorsFile.read(NAME, MemorySegment.ofArray(input));
        } catch (FormatException e) {
            Fuzz.checkMessage(e, NAME);
            return;
        }
        long covered = 0;
        for (Tensor t : f.tensors().values()) {
            assertEquals(t.numel() * t.dtype().size(), t.byteSize(), t.name());
            covered += t.byteSize();
        }
        f.metadata().forEach((k, v) -> assertEquals(v, f.metadata().get(k)));
        assertEquals(covered, input.length - 8 - MemorySegment.ofArray(input).get(Tensor.LONG, 0));
    }
}
