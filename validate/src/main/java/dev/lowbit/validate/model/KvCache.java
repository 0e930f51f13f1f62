package dev.lowbit.validate.model;

import dev.lowbit.formats.ModelConfig;

/**
 * The keys and values one sequence has seen, per layer and KV head, for incremental decoding. Its size is fixed when
 * made: layers × 2 × kv_heads × head_dim × positions × 4 bytes ({@link #bytes}); keys are stored after RoPE, so a
 * position's key is written once. Made by {@link Transformer#newCache}.
 */
public final class KvCache {
    /** [layer · kvHeads + kvHead] → [positions × headDim]: one contiguous matrix per head, read as attention's K and V. */
    final float[][] keys, values;
    private final int capacity, headDim;
    private int length;

    KvCache(ModelConfig c, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("a KV cache needs at least 1 position, not " + capacity);
        long bytes = bytes(c, capacity);
        if (bytes / (2L * c.layers() * c.kvHeads()) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions is too large for one array per head");
        this.capacity = capacity;
        this.headDim = c.headDim();
        int heads = c.layers() * c.kvHeads();
        keys = new float[heads][capacity * headDim];
        values = new float[heads][capacity * headDim];
    }

    /** Bytes of a cache of `positions` positions: layers × 2 × kv_heads × head_dim × positions × 4. */
    public static long bytes(ModelConfig c, int positions) {
        return (long) c.layers() * 2 * c.kvHeads() * c.headDim() * positions * Float.BYTES;
    }

    /** Positions filled so far (the next token goes at this position). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    void advance(int n) {
        length += n;
    }

    /** Forgets everything: the next token goes at position 0. */
    public void clear() {
        length = 0;
    }

    /** Becomes a copy of other (same model and capacity): what beam search does when a beam continues another's prefix. */
    public void copyFrom(KvCache other) {
        if (other == this) return;
        if (other.capacity != capacity || other.keys.length != keys.length) throw new IllegalArgumentException("KV caches of different shapes");
        int n = other.length * headDim;
        for (int i = 0; i < keys.length; i++) {
            System.arraycopy(other.keys[i], 0, keys[i], 0, n);
            System.arraycopy(other.values[i], 0, values[i], 0, n);
        }
        length = other.length;
    }
}
