package dev.lowbit.quantizers.lora;

import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.FloatSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A base tensor with LoRA adapters merged, in float32: W + Σ scale · B·A, computed a row at a time while it is read
 * (nothing of the merged model is held but the row being read), or an adapter's full replacement. Read either as
 * stored, or for a GPT-2 Conv1D weight (stored [in, out], PEFT's fan_in_fan_out) in the [out, in] orientation of a
 * Linear, which is how the quantizers read it. In the [out, in] orientation the delta of row p is
 * d[c] = scale · Σ_k B[p][k] · A[k][c]; in the stored [in, out] one of a fan_in_fan_out weight, d[o] = scale ·
 * Σ_k B[o][k] · A[k][p]. The sum runs over k in order with fused multiply-adds, then one multiply by the scale: what
 * torch's float32 (B @ A) · scale gives on this CPU, element for element (PEFT's merge).
 */
public final class MergedSource implements FloatSource {
    private final FloatSource base;
    private final List<LoraAdapter.Delta> deltas;
    private final boolean transposedDelta;
    private final int cols;

    private MergedSource(FloatSource base, List<LoraAdapter.Delta> deltas, boolean transposedDelta) {
        this.base = base;
        this.deltas = deltas;
        this.transposedDelta = transposedDelta;
        long[] s = base.shape();
        this.cols = s.length == 0 ? 1 : Math.toIntExact(s[s.length - 1]);
    }

    /**
     * The tensor with every adapter applied, or null when none touches it. asLinear: read a fan_in_fan_out (Conv1D)
     * weight in the [out, in] orientation; otherwise as stored.
     */
    public static MergedSource of(Tensor t, List<LoraAdapter> adapters, boolean asLinear) {
        float[] replacement = null;
        boolean fifo = false;
        List<LoraAdapter.Delta> ds = new ArrayList<>();
        for (LoraAdapter a : adapters) {
            float[] rep = a.replacement(t.name());
            if (rep != null) {
                if (!Arrays.equals(a.replacementShape(t.name()), t.shape()))
                    throw new FormatException(a.dir(), t.name(), "replacement shape " + Arrays.toString(a.replacementShape(t.name())) + " is not the base's " + Arrays.toString(t.shape()));
                replacement = rep;
                ds.clear(); // a later full replacement overrides earlier updates
            }
            LoraAdapter.Delta d = a.delta(t.name());
            if (d == null) continue;
            long[] want = d.fanInFanOut() ? new long[] {d.in(), d.out()} : new long[] {d.out(), d.in()};
            if (!Arrays.equals(want, t.shape()))
                throw new FormatException(a.dir(), t.name(), "LoRA update of shape " + Arrays.toString(want) + " does not fit the base's "
                        + Arrays.toString(t.shape()) + (d.fanInFanOut() ? " (fan_in_fan_out)" : ""));
            if (!ds.isEmpty() && ds.get(0).fanInFanOut() != d.fanInFanOut())
                throw new FormatException(a.dir(), t.name(), "adapters disagree on fan_in_fan_out");
            fifo = d.fanInFanOut();
            ds.add(d);
        }
        if (replacement == null && ds.isEmpty()) return null;
        float[] rep = replacement;
        FloatSource stored = rep == null ? FloatSource.of(t) : new FloatSource() {
            public long[] shape() { return t.shape(); }
            public void read(long start, float[] dst) { System.arraycopy(rep, (int) start, dst, 0, dst.length); }
        };
        boolean linear = asLinear && fifo;
        FloatSource oriented = !linear ? stored : rep == null ? FloatSource.transposed(t) : FloatSource.transposed(stored);
        return new MergedSource(oriented, List.copyOf(ds), fifo && !linear);
    }

    public long[] shape() {
        return base.shape();
    }

    /**
     * The base values of [start, start + dst.length) plus, for exactly those elements, their delta: the quantizers read a
     * block (e.g. 64 values) at a time, so a row's delta is never computed beyond the columns asked for.
     */
    public void read(long start, float[] dst) {
        base.read(start, dst);
        if (deltas.isEmpty()) return;
        float[] row = new float[Math.min(cols, dst.length)], acc = new float[row.length];
        long end = start + dst.length;
        for (long p = start / cols; p * cols < end; p++) {
            long from = Math.max(start, p * cols), to = Math.min(end, (p + 1) * cols);
            int c0 = (int) (from - p * cols), n = (int) (to - from);
            Arrays.fill(row, 0, n, 0f);
            for (LoraAdapter.Delta d : deltas) addDelta(d, (int) p, c0, n, row, acc);
            for (int i = 0; i < n; i++) dst[(int) (from - start) + i] += row[i];
        }
    }

    /** row[0, n) += scale · (B·A) at row p, columns [c0, c0 + n) of the orientation being read. */
    private void addDelta(LoraAdapter.Delta d, int p, int c0, int n, float[] row, float[] acc) {
        int r = d.rank(), in = d.in();
        float[] a = d.a(), b = d.b();
        float scale = d.scale();
        if (!transposedDelta) {
            Arrays.fill(acc, 0, n, 0f);
            for (int k = 0; k < r; k++) {
                float bk = b[p * r + k];
                int ak = k * in + c0;
                for (int c = 0; c < n; c++) acc[c] = Math.fma(bk, a[ak + c], acc[c]);
            }
            for (int c = 0; c < n; c++) row[c] += acc[c] * scale;
        } else {
            for (int c = 0; c < n; c++) {
                int o = c0 + c;
                float s = 0;
                for (int k = 0; k < r; k++) s = Math.fma(b[o * r + k], a[k * in + p], s);
                row[c] += s * scale;
            }
        }
    }
}
