package dev.lowbit.quantizers.gptq;

import dev.lowbit.quantizers.format.WeightFormat;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which bits of a format's block hold each element's code, found by probing the format itself: a bit is element j's
 * when flipping it changes element j's decoded value and no other's, in every probe block. With them, the nearest code
 * under fixed block parameters needs nothing format-specific: set every element's code bits to the same pattern, decode
 * the block once per pattern, and each element's candidates are there (2^bits decodes per block).
 */
final class CodeBits {
    private static final Map<String, CodeBits> CACHE = new ConcurrentHashMap<>();
    private static final int PROBES = 4, MAX_BITS = 8;

    final int[][] bits; // bits[e] = bit positions (byte · 8 + bit) of element e's code, ascending
    final int width;    // bits per code, the same for every element

    private CodeBits(int[][] bits) {
        this.bits = bits;
        this.width = bits[0].length;
    }

    /** The code bits of f's elements, or null when some element has none, they differ in width, or exceed 8 bits. */
    static CodeBits of(WeightFormat f) {
        String key = f.name() + "/" + f.blockSize() + "/" + f.blockBytes();
        CodeBits c = CACHE.get(key);
        if (c == null) {
            c = probe(f);
            if (c == null) return null;
            CACHE.putIfAbsent(key, c);
        }
        return c;
    }

    private static CodeBits probe(WeightFormat f) {
        int bs = f.blockSize(), bb = f.blockBytes(), nbits = bb * 8;
        int[] owner = new int[nbits];
        Arrays.fill(owner, -1); // -1: changes nothing yet; -2: not a code bit
        Random rnd = new Random(42);
        float[] x = new float[bs], base = new float[bs], flipped = new float[bs];
        byte[] b = new byte[bb];
        for (int p = 0; p < PROBES; p++) {
            for (int i = 0; i < bs; i++) x[i] = (float) (rnd.nextGaussian() * (1 + p));
            f.quantize(x, 0, bs, b, 0);
            MemorySegment seg = MemorySegment.ofArray(b);
            f.dequantize(seg, 0, bs, base, 0);
            for (int bit = 0; bit < nbits; bit++) {
                if (owner[bit] == -2) continue;
                b[bit >> 3] ^= (byte) (1 << (bit & 7));
                f.dequantize(seg, 0, bs, flipped, 0);
                b[bit >> 3] ^= (byte) (1 << (bit & 7));
                int changed = -1, count = 0;
                for (int i = 0; i < bs; i++)
                    if (Float.floatToIntBits(flipped[i]) != Float.floatToIntBits(base[i])) {
                        changed = i;
                        count++;
                    }
                if (count > 1 || (count == 1 && owner[bit] >= 0 && owner[bit] != changed)) owner[bit] = -2;
                else if (count == 1) owner[bit] = changed;
            }
        }
        int[] width = new int[bs];
        for (int o : owner) if (o >= 0) width[o]++;
        for (int w : width) if (w == 0 || w != width[0] || w > MAX_BITS) return null;
        int[][] bits = new int[bs][width[0]];
        int[] fill = new int[bs];
        for (int bit = 0; bit < nbits; bit++) if (owner[bit] >= 0) bits[owner[bit]][fill[owner[bit]]++] = bit;
        return new CodeBits(bits);
    }

    /** Sets element e's code bits in block[off ..] to pattern. */
    void set(byte[] block, int off, int e, int pattern) {
        int[] bs = bits[e];
        for (int t = 0; t < bs.length; t++) {
            int at = off + (bs[t] >> 3), m = 1 << (bs[t] & 7);
            if ((pattern >> t & 1) != 0) block[at] |= (byte) m;
            else block[at] &= (byte) ~m;
        }
    }

    /**
     * The values every element could take with block's parameters fixed: cand[p · blockSize + e] is element e's value
     * under code pattern p. block[off ..] is left unchanged.
     */
    float[] candidates(WeightFormat f, byte[] block, int off) {
        int bs = f.blockSize(), patterns = 1 << width;
        byte[] probe = Arrays.copyOfRange(block, off, off + f.blockBytes());
        MemorySegment seg = MemorySegment.ofArray(probe);
        float[] cand = new float[patterns * bs];
        for (int p = 0; p < patterns; p++) {
            for (int e = 0; e < bs; e++) set(probe, 0, e, p);
            f.dequantize(seg, 0, bs, cand, p * bs);
        }
        return cand;
    }
}
