package dev.lowbit.formats;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An output stream whose bytes are written to the target by a thread of their own, in order, in blocks of
 * {@value #BLOCK} bytes with at most {@value #IN_FLIGHT} blocks queued: the caller goes on encoding while the kernel
 * copies the previous blocks into the page cache (as slow as the disk once dirty pages pile up). Segments given to
 * {@link #put} (mapped regions of the input) go to the kernel as they are, with no copy of ours or the JDK's in
 * between. A failed write is rethrown by the next call; {@link #close()} waits for every byte, {@link #abandon()}
 * drops what is queued.
 */
final class BackgroundOutputStream extends OutputStream implements FillableOutput {
    static final int BLOCK = 8 << 20, IN_FLIGHT = 4;
    /** Segments up to this size are copied into the block (not worth a chunk of their own); larger go in pieces of at most PIECE. */
    static final int SMALL = 64 << 10, PIECE = 64 << 20;

    /** A block to write (its first length bytes) or a segment; {@link #END} (neither) ends the writer. */
    private record Chunk(byte[] block, int length, MemorySegment segment) {}

    private static final Chunk END = new Chunk(null, 0, null);

    private final WritableByteChannel target;
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(IN_FLIGHT + 1);
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(IN_FLIGHT + 2);
    private final Thread writer;
    private int created = 1;
    private volatile IOException failure;
    private volatile boolean abandoned;
    private byte[] block = new byte[BLOCK];
    private int used;
    private boolean closed;

    BackgroundOutputStream(WritableByteChannel target) {
        this.target = target;
        this.writer = Thread.ofPlatform().name("lowbit-writer").daemon().start(this::drain);
    }

    private void drain() {
        try {
            while (true) {
                Chunk c = full.take();
                if (c == END) return;
                if (!abandoned) {
                    ByteBuffer b = c.segment != null ? c.segment.asByteBuffer() : ByteBuffer.wrap(c.block, 0, c.length);
                    while (b.hasRemaining()) target.write(b);
                }
                if (c.block != null) free.offer(c.block);
            }
        } catch (IOException e) {
            failure = e;
            free.offer(new byte[0]); // wakes a producer waiting for a block; it then sees the failure
        } catch (InterruptedException e) {
            failure = new InterruptedIOException("write interrupted");
        }
    }

    /** The writer's failure, as a new exception each time (a caller may see it twice: write, then close). */
    private IOException failed() {
        return new IOException(failure.getMessage(), failure);
    }

    private void check() throws IOException {
        if (failure != null) throw failed();
        if (closed) throw new IOException("stream closed");
    }

    @Override
    public void write(int b) throws IOException {
        if (used == BLOCK) hand();
        block[used++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check();
        while (len > 0) {
            if (used == BLOCK) hand();
            int n = Math.min(len, BLOCK - used);
            System.arraycopy(b, off, block, used, n);
            used += n;
            off += n;
            len -= n;
        }
    }

    /** In the current block when it has room, else in the next one (the current one goes out part full). */
    @Override
    public void fill(int length, Filler filler) throws IOException {
        check();
        if (length > BLOCK) { // made in an array of its own, then copied
            byte[] b = new byte[length];
            filler.fill(b, 0);
            write(b, 0, length);
            return;
        }
        if (BLOCK - used < length) hand();
        filler.fill(block, used);
        used += length;
    }

    /**
     * After the bytes so far. A segment of more than {@value #SMALL} bytes that the writer thread may read is queued as
     * it is, not copied; a smaller one, or one confined to the caller's thread, is copied into the blocks.
     */
    @Override
    public void put(MemorySegment segment) throws IOException {
        check();
        long size = segment.byteSize();
        if (size > SMALL && segment.isAccessibleBy(writer)) {
            if (used > 0) hand();
            for (long at = 0; at < size; at += PIECE) put(new Chunk(null, 0, segment.asSlice(at, Math.min(PIECE, size - at))));
            return;
        }
        for (long at = 0; at < size; at += BLOCK) {
            int n = (int) Math.min(BLOCK, size - at);
            long from = at;
            fill(n, (buf, off) -> MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, from, buf, off, n));
        }
    }

    /** Queues the current block and takes a free one (a new one while fewer than IN_FLIGHT + 1 exist). */
    private void hand() throws IOException {
        check();
        put(new Chunk(block, used, null));
        used = 0;
        byte[] next = free.poll();
        if (next == null && created < IN_FLIGHT + 1) {
            created++;
            next = new byte[BLOCK];
        }
        try {
            while (next == null || next.length == 0) {
                if (failure != null) throw failed();
                next = free.take();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        }
        block = next;
    }

    private void put(Chunk c) throws IOException {
        try {
            while (!full.offer(c, 50, TimeUnit.MILLISECONDS)) // the writer may have stopped on a failure
                if (failure != null) throw failed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        }
    }

    /** Nothing: bytes reach the target in order, all of them by {@link #close()}. */
    @Override
    public void flush() throws IOException {
        check();
    }

    /** Writes what is buffered and waits until the target has every byte, then closes it. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        try {
            if (failure == null && used > 0) put(new Chunk(block, used, null));
            if (failure == null) put(END);
            join();
            closed = true;
            if (failure != null) throw failed();
        } finally {
            target.close();
        }
    }

    /** Drops the queued blocks, stops the writer and closes the target (the file is about to be deleted). */
    void abandon() {
        abandoned = true;
        closed = true;
        writer.interrupt();
        join();
        try {
            target.close();
        } catch (IOException ignored) {
            // the partial file is deleted next
        }
    }

    private void join() {
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true; // the target must not be written once the caller goes on
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
