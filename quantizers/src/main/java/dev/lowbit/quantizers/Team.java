package dev.lowbit.quantizers;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The calling thread and size − 1 persistent workers running one job at a time: body(0 .. n-1), indices claimed in
 * chunks from a shared counter. Between jobs a worker spins for {@value #SPIN_NANOS} ns before it parks (as
 * llama.cpp's thread pool does): generating a token runs about a hundred short jobs, and waking a parked thread costs
 * tens of microseconds each time. A job started while another runs (a nested call, a second caller) runs on its
 * caller alone.
 */
final class Team {
    static final long SPIN_NANOS = 200_000;
    private static final long CALLER_SPIN_NANOS = 50_000;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger running = new AtomicInteger();
    private volatile Job job;

    Team(int size) {
        workers = new Worker[size - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("lowbit-worker-" + (i + 1));
            workers[i].start();
        }
    }

    int size() {
        return workers.length + 1;
    }

    void run(int n, IntConsumer body) {
        if (workers.length == 0 || n <= 1 || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        try {
            Job j = new Job(body, n, Math.max(1, n / (8 * size())));
            running.set(workers.length);
            job = j;
            for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
            j.work();
            long start = System.nanoTime();
            while (running.get() > 0) {
                if (System.nanoTime() - start < CALLER_SPIN_NANOS) Thread.onSpinWait();
                else Thread.yield(); // a worker without a core (a compiler thread, another process): let it run
            }
            if (j.failed instanceof RuntimeException e) throw e;
            if (j.failed instanceof Error e) throw e;
        } finally {
            busy.set(false);
        }
    }

    private static final class Job {
        final IntConsumer body;
        final int n, chunk;
        final AtomicInteger next = new AtomicInteger();
        volatile Throwable failed;

        Job(IntConsumer body, int n, int chunk) {
            this.body = body;
            this.n = n;
            this.chunk = chunk;
        }

        void work() {
            try {
                for (int i0; (i0 = next.getAndAdd(chunk)) < n; )
                    for (int i = i0, end = Math.min(n, i0 + chunk); i < end; i++) body.accept(i);
            } catch (RuntimeException | Error e) {
                if (failed == null) failed = e;
                next.set(n); // the others stop at their next claim
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;
        private Job seen;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            while (true) {
                awaitJob().work();
                running.decrementAndGet();
            }
        }

        private Job awaitJob() {
            long start = System.nanoTime();
            while (true) {
                Job j = job;
                if (j != seen) return seen = j;
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true; // then look again: a job published before the caller saw this flag is not missed
                if (job == seen) LockSupport.park(this);
                parked = false;
            }
        }
    }
}
