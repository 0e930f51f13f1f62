package dev.lowbit.quantizers.format;

import static dev.lowbit.quantizers.format.GgmlQuants.f16;
import static dev.lowbit.quantizers.format.GgmlQuants.makeQkx2Quants;
import static dev.lowbit.quantizers.format.GgmlQuants.nearestInt;
import static dev.lowbit.quantizers.format.GgmlQuants.putF16;
import static dev.lowbit.quantizers.format.GgmlQuants.u8;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q2_K: super-blocks of 256 as {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}: 16 groups of 16 with a
 * 4-bit scale (low nibble) and 4-bit min (high nibble), x ≈ d·sc·q − dmin·m, q ∈ [0, 3]. Encoder =
 * quantize_row_q2_K_ref (make_qkx2_quants with |x| weights, mean absolute error), decoder = dequantize_row_q2_K.
 */
final class Q2_K implements WeightFormat {
    public String name() { return "Q2_K"; }
    public int ggmlType() { return 10; }
    public int blockSize() { return 256; }
    public int blockBytes() { return 84; }

    public boolean usesImportance() { return true; }

    /** With an importance: quantize_row_q2_K_impl (make_qkx3_quants per group, make_qp_quants for scales and mins). */
    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff, float[] importance, int impOff) {
        if (importance == null) {
            quantize(src, srcOff, n, dst, dstOff);
            return;
        }
        int[] L = new int[256], laux = new int[16], ls = new int[16], lm = new int[16];
        float[] mins = new float[16], scales = new float[16], sw = new float[16], theMin = new float[1];
        Qkx2Lanes.Scratch lanes = Qkx2Lanes.USABLE ? Qkx2Lanes.scratch(16) : null; // the 16 groups' searches side by side
        float[] weights = new float[256], weight = new float[16];
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 84 * b, qo = impOff + 256 * b;
            float sumx2 = 0;
            for (int j = 0; j < 256; ++j) sumx2 += src[x + j] * src[x + j];
            float sigma2 = sumx2 / 256;
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l)
                    weights[16 * j + l] = importance[qo + 16 * j + l] * (float) Math.sqrt(sigma2 + src[x + 16 * j + l] * src[x + 16 * j + l]);
                sw[j] = 0;
                for (int l = 0; l < 16; ++l) sw[j] += weights[16 * j + l];
                if (lanes != null) continue;
                System.arraycopy(weights, 16 * j, weight, 0, 16);
                scales[j] = GgmlImatrix.makeQkx3Quants(16, 3, src, x + 16 * j, weight, L, 16 * j, theMin, laux, -0.9f, 0.05f, 36);
                mins[j] = theMin[0];
            }
            // make_qkx3_quants is make_qkx2_quants with squared errors (see GgmlImatrix.quantizeK4)
            for (int j = 0; lanes != null && j < 16; j += Qkx2Lanes.GROUPS)
                Qkx2Lanes.run(Math.min(Qkx2Lanes.GROUPS, 16 - j), 3, src, x + 16 * j, weights, 16 * j, L, 16 * j, scales, mins, j, -0.9f, 0.05f, 36, false, lanes);
            putF16(dst, y + 80, GgmlImatrix.makeQpQuants(16, 15, scales, ls, sw));
            putF16(dst, y + 82, GgmlImatrix.makeQpQuants(16, 15, mins, lm, sw));
            float dm = f16(dst, y + 80), mm = f16(dst, y + 82);
            for (int j = 0; j < 16; ++j) dst[y + j] = (byte) (ls[j] | (lm[j] << 4));
            for (int j = 0; j < 16; ++j) {
                float d = dm * (dst[y + j] & 0xF);
                if (d == 0) continue;
                float m = mm * ((dst[y + j] & 0xff) >> 4);
                GgmlQuants.groupQuantsMin(src, x + 16 * j, 16, d, m, 3, L, 16 * j);
            }
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    dst[y + 16 + j / 4 + l] = (byte) (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
                }
            }
        }
    }

    public void quantize(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        int[] L = new int[256];
        int[] laux = new int[16];
        float[] weights = new float[16];
        float[] mins = new float[16];
        float[] scales = new float[16];
        float[] theMin = new float[1];
        final float q4scale = 15.f;
        Qkx2Lanes.Scratch lanes = Qkx2Lanes.USABLE ? Qkx2Lanes.scratch(16) : null; // the 16 groups' searches side by side
        float[] allWeights = lanes != null ? new float[256] : null;
        for (int b = 0; b < n / 256; b++) {
            int x = srcOff + 256 * b, y = dstOff + 84 * b;
            float maxScale = 0, maxMin = 0;
            if (lanes != null) {
                for (int l = 0; l < 256; ++l) allWeights[l] = Math.abs(src[x + l]);
                for (int j = 0; j < 16; j += Qkx2Lanes.GROUPS)
                    Qkx2Lanes.run(Math.min(Qkx2Lanes.GROUPS, 16 - j), 3, src, x + 16 * j, allWeights, 16 * j, L, 16 * j, scales, mins, j, -0.5f, 0.1f, 15, true, lanes);
            }
            for (int j = 0; j < 16; ++j) {
                if (lanes == null) {
                    for (int l = 0; l < 16; ++l) weights[l] = Math.abs(src[x + 16 * j + l]);
                    scales[j] = makeQkx2Quants(16, 3, src, x + 16 * j, weights, L, 16 * j, theMin, laux, -0.5f, 0.1f, 15, true);
                    mins[j] = theMin[0];
                }
                float scale = scales[j];
                if (scale > maxScale) maxScale = scale;
                float min = mins[j];
                if (min > maxMin) maxMin = min;
            }
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; ++j) dst[y + j] = (byte) nearestInt(iscale * scales[j]);
                putF16(dst, y + 80, maxScale / q4scale);
            } else {
                for (int j = 0; j < 16; ++j) dst[y + j] = 0;
                putF16(dst, y + 80, 0.f);
            }
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; ++j) dst[y + j] |= (byte) (nearestInt(iscale * mins[j]) << 4);
                putF16(dst, y + 82, maxMin / q4scale);
            } else {
                putF16(dst, y + 82, 0.f);
            }
            float dAll = f16(dst, y + 80), dminAll = f16(dst, y + 82);
            for (int j = 0; j < 16; ++j) {
                int sc = dst[y + j] & 0xff;
                float d = dAll * (sc & 0xF);
                if (d == 0) continue;
                float dm = dminAll * (sc >> 4);
                GgmlQuants.groupQuantsMin(src, x + 16 * j, 16, d, dm, 3, L, 16 * j);
            }
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    dst[y + 16 + j / 4 + l] =
                            (byte) (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
                }
            }
        }
    }

    public void dequantize(MemorySegment src, long off, int n, float[] dst, int dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 84L * b;
            int y = dstOff + 256 * b;
            float d = f16(src, p + 80), min = f16(src, p + 82);
            long q = p + 16;
            int is = 0;
            for (int nn = 0; nn < 256; nn += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    int sc = u8(src, p + is++);
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) dst[y++] = dl * ((u8(src, q + l) >> shift) & 3) - ml;
                    sc = u8(src, p + is++);
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) dst[y++] = dl * ((u8(src, q + l + 16) >> shift) & 3) - ml;
                    shift += 2;
                }
                q += 32;
            }
        }
    }
}
