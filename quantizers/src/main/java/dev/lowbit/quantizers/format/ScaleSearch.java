package dev.lowbit.quantizers.format;

import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.Nf4Codes;

/**
 * Per-block scale search for lowbit's 4-bit formats, as llama.cpp searches IQ4_NL's scale: trial scales around the
 * absmax one (absmax · (1 + k·δ), k = −12 … 3, δ = 1.5 %: smaller scales clip the block's largest value to the
 * codebook's end and gain resolution for the rest), codes by the format's own rule at each trial scale, then the
 * least-squares scale for those codes and the codes again at that scale. Every candidate (codes, stored scale) is
 * scored by the exact squared error of what dequantizes, weighted per element (the importance of its input column, or
 * 1), and the absmax encoding is one of the candidates: the result is never worse than absmax on that error.
 */
public final class ScaleSearch {
    private ScaleSearch() {}

    static final int DOWN = 12, UP = 3;
    static final float DELTA = 0.015f;

    /** Σ w·(x − value)² in double, value as the format dequantizes it. */
    private static double err(float[] x, int xo, int len, float[] w, int wo, float[] value) {
        double e = 0;
        for (int i = 0; i < len; i++) {
            double d = x[xo + i] - value[i];
            e += (w == null ? 1 : w[wo + i]) * d * d;
        }
        return e;
    }

    /**
     * A 4-bit codebook block (values in [−1, 1], bitsandbytes' decision rule on clamp(x/s, −1, 1)): x[0 .. len) with
     * absmax m > 0, weights w[wo ..] or null. Fills codes and returns the scale to store (the absmax field).
     */
    public static float codebook(Codebook4 cb, float[] x, int len, float m, float[] w, int wo, int[] codes) {
        int[] trial = new int[len];
        float[] value = new float[len];
        assign(cb, x, len, m, codes);
        float best = m;
        double bestErr = score(cb, x, len, w, wo, codes, m, value);
        for (int k = -DOWN; k <= UP; k++) {
            float s = k == 0 ? m : m * (1 + k * DELTA);
            for (int pass = 0; pass < 3; pass++) {
                if (pass > 0) {
                    if (pass == 1) s = lsScale(cb, x, len, w, wo, trial);
                    if (!(s > 0) || !Float.isFinite(s)) break;
                }
                if (pass != 1) assign(cb, x, len, s, trial);
                double e = score(cb, x, len, w, wo, trial, s, value);
                if (e < bestErr) {
                    bestErr = e;
                    best = s;
                    System.arraycopy(trial, 0, codes, 0, len);
                }
            }
        }
        return best;
    }

    private static void assign(Codebook4 cb, float[] x, int len, float s, int[] codes) {
        float inv = 1f / s;
        if (cb == Codebook4.NF4) Nf4Codes.codes(x, len, inv, codes);
        else for (int i = 0; i < len; i++) codes[i] = cb.code(Math.max(-1f, Math.min(1f, x[i] * inv)));
    }

    private static double score(Codebook4 cb, float[] x, int len, float[] w, int wo, int[] codes, float s, float[] value) {
        for (int i = 0; i < len; i++) value[i] = cb.value(codes[i]) * s;
        return err(x, 0, len, w, wo, value);
    }

    private static float lsScale(Codebook4 cb, float[] x, int len, float[] w, int wo, int[] codes) {
        double qx = 0, qq = 0;
        for (int i = 0; i < len; i++) {
            double q = cb.value(codes[i]), wi = w == null ? 1 : w[wo + i];
            qx += wi * q * x[i];
            qq += wi * q * q;
        }
        return qq > 0 ? (float) (qx / qq) : 0;
    }

    /** An int4 group's encoding: the f16 scale bits and the zero point. */
    public record Int4(short scale, int zero) {}

    /**
     * An int4 group x[xo .. xo+len): symmetric (zero 8, levels −8 … 7) or asymmetric (zero 0 … 15 searched with the
     * scale). baseline is the absmax encoding (as {@link Int4Blocks} computes it). Returns the best; codes filled.
     */
    static Int4 int4(float[] x, int xo, int len, boolean asym, Int4 baseline, float[] w, int wo, int[] codes) {
        int[] trial = new int[len];
        float[] value = new float[len];
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY, m = 0;
        for (int i = 0; i < len; i++) {
            float v = x[xo + i];
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            m = Math.max(m, Math.abs(v));
        }
        Int4 best = baseline;
        Int4Blocks.codes(x, xo, len, baseline.scale(), baseline.zero(), codes);
        double bestErr = int4Score(x, xo, len, w, wo, codes, baseline, value);
        float base = asym ? (hi - lo) / 15f : m / 7f;
        if (!(base > 0)) return best;
        for (int k = -DOWN; k <= UP; k++) {
            float s0 = base * (1 + k * DELTA);
            int z0 = asym ? (int) Math.max(0, Math.min(15, Math.rint(-lo / s0))) : 8;
            for (int z = asym ? Math.max(0, z0 - 1) : 8; z <= (asym ? Math.min(15, z0 + 1) : 8); z++) {
                Int4 c = new Int4(Float.floatToFloat16(s0), z);
                for (int pass = 0; pass < 3; pass++) {
                    if (pass == 1) {
                        float d = int4LsScale(x, xo, len, w, wo, trial, z);
                        if (!(d > 0) || !Float.isFinite(d)) break;
                        c = new Int4(Float.floatToFloat16(d), z);
                    }
                    if (pass != 1) Int4Blocks.codes(x, xo, len, c.scale(), c.zero(), trial);
                    double e = int4Score(x, xo, len, w, wo, trial, c, value);
                    if (e < bestErr) {
                        bestErr = e;
                        best = c;
                        System.arraycopy(trial, 0, codes, 0, len);
                    }
                }
            }
        }
        return best;
    }

    private static double int4Score(float[] x, int xo, int len, float[] w, int wo, int[] codes, Int4 c, float[] value) {
        float s = Float.float16ToFloat(c.scale());
        for (int i = 0; i < len; i++) value[i] = (codes[i] - c.zero()) * s;
        return err(x, xo, len, w, wo, value);
    }

    private static float int4LsScale(float[] x, int xo, int len, float[] w, int wo, int[] codes, int zero) {
        double qx = 0, qq = 0;
        for (int i = 0; i < len; i++) {
            double q = codes[i] - zero, wi = w == null ? 1 : w[wo + i];
            qx += wi * q * x[xo + i];
            qq += wi * q * q;
        }
        return qq > 0 ? (float) (qx / qq) : 0;
    }
}
