package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.makeQ3Quants;
import static dev.lowbit.quantizers.format.GgmlQuants.nearestInt;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q3_K: super-blocks of 256 as {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: 16 groups of 16 with a
 * signed 6-bit scale (low nibbles in scales[0..7], top 2 bits in scales[8..11]), x ≈ d·(sc − 32)·(q − 4), q ∈ [0, 7]:
 * low 2 bits in qs, bit 2 in hmask. Encoder = quantize_row_q3_K_ref (make_q3_quants), decoder = dequantize_row_q3_K.
 */
final class Q3_K implements WeightFormat {
    public String name() { return "Q3_K"; }
    public int ggmlType() { return 11; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 110; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** With an importance: quantize_row_q3_K_impl (make_qx_quants per group and for the 16 scales, weighted). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        quantize(src, srcOff, n, dst, dstOff, importance, impOff, Q3Lanes.USABLE && LaneEncoders.on(), BlockDots.USABLE);
    }

    /** Everything in lanes or nothing (the twins compared in Q3LanesTest). */
    static void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, boolean useLanes) {
        quantize(src, srcOff, n, dst, dstOff, importance, impOff, useLanes, useLanes);
    }

    /**
     * With searchLanes, the 16 sub-block searches without importance run 8 or 16 at a time in {@link Q3Lanes}: the
     * same bytes (Q3LanesTest). 1.1B Q3_K_M export 8.5 -> 7.0 s (medians of 3, alternating); for an 82M model the
     * lanes' compiling costs more than they save (1.33 -> 1.45 s even compiled early), so they follow the other GGUF
     * lanes ({@link LaneEncoders#on}: jobs of 500M weights or more). With quantLanes, the final quants' division and
     * nearest_int run L values at a time ({@link BlockDots#groupQuants}, small and compiled early, as for Q6_K): at
     * every size, 82M Q3_K_M export 1.47 -> 1.43 s (medians of 8, alternating).
     */
    static void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, boolean searchLanes,
            boolean quantLanes) {
        int[] L = new int[256], ls = new int[16];
        Q3Lanes.Scratch lanes = searchLanes ? new Q3Lanes.Scratch() : null;
        float[] scales = new float[16], weight = new float[16], sw = new float[16];
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 110 * b;
            int sco = y + 96;
            if (importance != null) {
                weightedScales(src, x, importance, impOff + 256 * b, dst, y, L, scales, weight, sw, ls);
                finish(src, x, dst, y, L, quantLanes);
                continue;
            }
            float maxScale = 0, amax = 0;
            if (lanes != null) for (int j = 0; j < 16; j += Q3Lanes.GROUPS) Q3Lanes.run(src, x + 16 * j, L, 16 * j, scales, j, lanes);
            for (int j = 0; j < 16; ++j) {
                if (lanes == null) scales[j] = makeQ3Quants(16, 4, src, x + 16 * j, L, 16 * j, true);
                float scale = Math.abs(scales[j]);
                if (scale > amax) { amax = scale; maxScale = scales[j]; }
            }
            for (int k = 0; k < 12; k++) dst[sco + k] = 0;
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < 16; ++j) {
                    int l = (byte) nearestInt(iscale * scales[j]);
                    l = Math.max(-32, Math.min(31, l)) + 32;
                    if (j < 8) dst[sco + j] = (byte) (l & 0xF);
                    else dst[sco + j - 8] |= (byte) ((l & 0xF) << 4);
                    l >>= 4;
                    dst[sco + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
                }
                putF16(dst, y + 108, 1 / iscale);
            } else {
                putF16(dst, y + 108, 0.f);
            }
            finish(src, x, dst, y, L, quantLanes);
        }
    }

    /** quantize_row_q3_K_impl up to d and the packed scales (the quants follow as in the reference encoder). */
    private static void weightedScales(float[] src, int x, float[] qw, int qo, byte[] dst, int y, int[] L, float[] scales, float[] weight,
            float[] sw, int[] ls) {
        float sumx2 = 0;
        for (int j = 0; j < 256; ++j) sumx2 += src[x + j] * src[x + j];
        float sigma2 = 2 * sumx2 / 256;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weight[l] = qw[qo + 16 * j + l] * (float) Math.sqrt(sigma2 + src[x + 16 * j + l] * src[x + 16 * j + l]);
            float sumw = 0;
            for (int l = 0; l < 16; ++l) sumw += weight[l];
            sw[j] = sumw;
            scales[j] = GgmlImatrix.makeQxQuants(16, 4, src, x + 16 * j, L, 16 * j, weight, 0);
        }
        int sco = y + 96;
        for (int k = 0; k < 12; k++) dst[sco + k] = 0;
        float dBlock = GgmlImatrix.makeQxQuants(16, 32, scales, 0, ls, 0, sw, 0);
        for (int j = 0; j < 16; ++j) {
            int l = (byte) ls[j];
            if (j < 8) dst[sco + j] = (byte) (l & 0xF);
            else dst[sco + j - 8] |= (byte) ((l & 0xF) << 4);
            l >>= 4;
            dst[sco + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
        }
        putF16(dst, y + 108, dBlock);
    }

    /** From the stored d and scales: every quant again, then hmask and qs. */
    private static void finish(float[] src, int x, byte[] dst, int y, int[] L, boolean useLanes) {
        int sco = y + 96;
        float dAll = f16(dst, y + 108);
        for (int j = 0; j < 16; ++j) {
            int sc = j < 8 ? dst[sco + j] & 0xF : (dst[sco + j - 8] & 0xff) >> 4;
            sc = (sc | ((((dst[sco + 8 + j % 4] & 0xff) >> (2 * (j / 4))) & 3) << 4)) - 32;
            float d = dAll * sc;
            if (d == 0) continue;
            if (useLanes) {
                BlockDots.groupQuants(src, x + 16 * j, d, 4, L, 16 * j);
                continue;
            }
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearestInt(src[x + 16 * j + ii] / d);
                L[16 * j + ii] = Math.max(-4, Math.min(3, l)) + 4;
            }
        }
        // hmask: bit h of byte m is whether L[32h + m] > 3, which then loses it. Every L is in [0, 7] here, so that is
        // bit 2 of L, taken without the C loop's branch: on weights it goes either way at random, and its mispredictions
        // cost more than the rest of the block.
        for (int k = 0; k < 32; k++) dst[y + k] = 0;
        for (int h = 0; h < 8; h++) {
            for (int m = 0; m < 32; m++) {
                int l = L[32 * h + m];
                dst[y + m] |= (byte) ((l >> 2) << h);
                L[32 * h + m] = l & 3;
            }
        }
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                dst[y + 32 + j / 4 + l] =
                        (byte) (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 110L * b;
            int y = dstOff + 256 * b;
            float dAll = f16(src, p + 108);
            long sco = p + 96;
            long q = p + 32;
            int m = 1, is = 0;
            for (int nn = 0; nn < 256; nn += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    float dl = dAll * (scale(src, sco, is++) - 32);
                    for (int l = 0; l < 16; ++l) {
                        dst[y++] = dl * (((u8(src, q + l) >> shift) & 3) - ((u8(src, p + l) & m) != 0 ? 0 : 4));
                    }
                    dl = dAll * (scale(src, sco, is++) - 32);
                    for (int l = 0; l < 16; ++l) {
                        dst[y++] = dl * (((u8(src, q + l + 16) >> shift) & 3) - ((u8(src, p + l + 16) & m) != 0 ? 0 : 4));
                    }
                    shift += 2;
                    m <<= 1;
                }
                q += 32;
            }
        }
    }

    /** The unsigned 6-bit scale j of the 12 packed bytes at sco (what dequantize_row_q3_K's aux shuffle yields). */
    private static int scale(MemorySegment s, long sco, int j) {
        int lo = j < 8 ? u8(s, sco + j) & 0xF : u8(s, sco + j - 8) >> 4;
        return lo | (((u8(s, sco + 8 + j % 4) >> (2 * (j / 4))) & 3) << 4);
    }
}
