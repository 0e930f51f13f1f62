package dev.lowbit.quantizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The team runs every index exactly once, on more than one thread, rethrows a body's failure, and nests serially. */
class TeamTest {
    @Test
    void everyIndexOnceOnSeveralThreads() {
        Team team = new Team(3);
        for (int n : new int[] {0, 1, 2, 7, 100, 10_000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            team.run(n, i -> {
                hits.incrementAndGet(i);
                threads.add(Thread.currentThread());
                if (n == 10_000) busyWork();
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n " + n + " index " + i);
            if (n == 10_000) assertTrue(threads.size() > 1, "workers joined in: " + threads);
        }
    }

    @Test
    void aFailureIsRethrownAfterTheOthersStop() {
        Team team = new Team(2);
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> team.run(1000, i -> {
            busyWork();
            if (i == 500) throw boom;
        }));
        assertSame(boom, thrown);
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        team.run(64, hits::incrementAndGet); // and the team still works
        for (int i = 0; i < 64; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void aNestedJobRunsOnItsCaller() {
        Team team = new Team(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(16 * 16);
        team.run(16, i -> {
            Thread outer = Thread.currentThread();
            team.run(16, j -> {
                assertSame(outer, Thread.currentThread());
                hits.incrementAndGet(i * 16 + j);
            });
        });
        for (int k = 0; k < 256; k++) assertEquals(1, hits.get(k));
    }

    private static double sink;

    private static void busyWork() {
        double s = 0;
        for (int k = 0; k < 2000; k++) s += Math.sqrt(k);
        sink += s;
    }
}
