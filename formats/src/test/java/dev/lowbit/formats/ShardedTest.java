package dev.lowbit.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import org.junit.jupiter.api.Test;

class ShardedTest {
    @Test
    void shardedSampleReadsLikeItsSingleFileTwin() {
        var sharded = Samples.requireShared("tiny-llama-sharded");
        try (Checkpoint one = Checkpoint.open(Samples.tinyLlama()); Checkpoint many = Checkpoint.open(sharded)) {
            assertTrue(many.files().size() > 1);
            assertEquals(one.tensors().size(), many.tensors().size());
            for (Tensor t : one.tensors()) assertEquals(t, many.tensor(t.name()), t.name());
        }
    }
}
