package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.GROUP_MAX_EPS;
import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.makeQxQuants;
import static dev.lowbit.quantizers.format.GgmlQuants.nearestInt;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * GGML_TYPE_Q6_K: super-blocks of 256 as {u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}: 16 groups of 16 with an
 * 8-bit signed scale, x ≈ d·sc·(q − 32), q ∈ [0, 63] (low nibbles in ql, top 2 bits in qh). Encoder =
 * quantize_row_q6_K_ref (make_qx_quants, x²-weighted), decoder = dequantize_row_q6_K.
 */
final class Q6_K implements WeightFormat {
    public String name() { return "Q6_K"; }
    public int ggmlType() { return 14; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 210; }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        quantize(src, srcOff, n, dst, dstOff, null, 0);
    }

    public boolean usesImportance() { return true; }

    /** With an importance: quantize_row_q6_K_impl (make_qx_quants weighted by quant_weights as they are). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        quantize(src, srcOff, n, dst, dstOff, importance, impOff, QxLanes.USABLE && LaneEncoders.q6k());
    }

    /**
     * With useLanes, the sub-block searches without importance run eight at a time in {@link QxLanes}, and the final
     * quants L values at a time (the same bytes).
     */
    static void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff, boolean useLanes) {
        int[] L = new int[256];
        float[] scales = new float[16];
        QxLanes.Scratch lanes = importance == null && useLanes ? new QxLanes.Scratch(16) : null;
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 210 * b;
            float maxScale = 0, maxAbsScale = 0;
            if (lanes != null) for (int ib = 0; ib < 16; ib += QxLanes.GROUPS) QxLanes.run(16, 32, src, x + 16 * ib, L, 16 * ib, scales, ib, lanes);
            for (int ib = 0; ib < 16; ++ib) {
                float scale = lanes != null ? scales[ib] : importance == null ? makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib, 1)
                        : GgmlImatrix.makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib, importance, impOff + 256 * b + 16 * ib);
                scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) { maxAbsScale = absScale; maxScale = scale; }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                Arrays.fill(dst, y, y + 210, (byte) 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            putF16(dst, y + 208, 1 / iscale);
            for (int ib = 0; ib < 16; ++ib) dst[y + 192 + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            float dAll = f16(dst, y + 208);
            for (int j = 0; j < 16; ++j) {
                float d = dAll * dst[y + 192 + j];
                if (d == 0) continue;
                if (useLanes && BlockDots.USABLE) {
                    BlockDots.groupQuants(src, x + 16 * j, d, 32, L, 16 * j);
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(src[x + 16 * j + ii] / d);
                    L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            int ql = y, qh = y + 128;
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    dst[ql + l] = (byte) (q1 | (q3 << 4));
                    dst[ql + l + 32] = (byte) (q2 | (q4 << 4));
                    dst[qh + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4)
                            | ((L[j + l + 96] >> 4) << 6));
                }
                ql += 64;
                qh += 32;
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 210L * b;
            int y = dstOff + 256 * b;
            float d = f16(src, p + 208);
            long ql = p, qh = p + 128, sc = p + 192;
            for (int nn = 0; nn < 256; nn += 128) {
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int a = u8(src, ql + l), c = u8(src, ql + l + 32), h = u8(src, qh + l);
                    int q1 = ((a & 0xF) | (((h >> 0) & 3) << 4)) - 32;
                    int q2 = ((c & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((c >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * sc(src, sc + is) * q1;
                    dst[y + l + 32] = d * sc(src, sc + is + 2) * q2;
                    dst[y + l + 64] = d * sc(src, sc + is + 4) * q3;
                    dst[y + l + 96] = d * sc(src, sc + is + 6) * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }

    private static byte sc(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }
}
