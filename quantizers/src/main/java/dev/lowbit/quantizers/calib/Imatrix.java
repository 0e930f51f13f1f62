package dev.lowbit.quantizers.calib;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * An importance matrix: per linear weight (GGUF names), the sum of x² per input column, the number of tokens summed
 * and optionally the sum of x·xᵀ (cols × cols), as collected by calibration or read from llama-imatrix's files
 * ({@link ImatrixFile}). Weights sharing an input share one {@link Stats}. The importance is computed as
 * llama-quantize computes it from the file: float(sum) / float(count), 1 when nothing was counted.
 */
public final class Imatrix implements Calibration {
    /** Sums over the tokens seen by one input: x² per column, optionally x·xᵀ. */
    public static final class Stats {
        final double[] sum2;
        final double[] xtx;
        long count;

        public Stats(int cols, boolean withXtx) {
            sum2 = new double[cols];
            xtx = withXtx ? new double[cols * cols] : null;
        }

        Stats(double[] sum2, double[] xtx, long count) {
            this.sum2 = sum2;
            this.xtx = xtx;
            this.count = count;
        }

        public int cols() {
            return sum2.length;
        }

        public double[] sum2() {
            return sum2;
        }

        /** The running x·xᵀ sum, or null when not collected. */
        public double[] xtx() {
            return xtx;
        }

        public long count() {
            return count;
        }

        public void addCount(long n) {
            count += n;
        }
    }

    private final SequencedMap<String, Stats> stats;
    private final List<String> datasets;
    private final int chunkCount, chunkSize;

    public Imatrix(Map<String, Stats> stats, List<String> datasets, int chunkCount, int chunkSize) {
        this.stats = Collections.unmodifiableSequencedMap(new TreeMap<>(stats));
        this.datasets = List.copyOf(datasets);
        this.chunkCount = chunkCount;
        this.chunkSize = chunkSize;
    }

    /** Statistics by GGUF weight name, sorted by name (shared inputs appear under every weight using them). */
    public SequencedMap<String, Stats> stats() {
        return stats;
    }

    public List<String> datasets() {
        return datasets;
    }

    public int chunkCount() {
        return chunkCount;
    }

    public int chunkSize() {
        return chunkSize;
    }

    private Stats find(String weightName) {
        return stats.get(LinearNames.gguf(weightName));
    }

    @Override
    public float[] importance(String weightName) {
        Stats s = find(weightName);
        if (s == null) return null;
        float[] out = new float[s.cols()];
        float count = s.count;
        for (int i = 0; i < out.length; i++) out[i] = count > 0 ? (float) s.sum2[i] / count : 1f;
        return out;
    }

    @Override
    public double[] hessian(String weightName) {
        Stats s = find(weightName);
        if (s == null || s.xtx == null || s.count == 0) return null;
        double[] h = s.xtx.clone();
        for (int i = 0; i < h.length; i++) h[i] /= s.count;
        return h;
    }

    @Override
    public long tokens() {
        long max = 0;
        for (Stats s : stats.values()) max = Math.max(max, s.count);
        return max;
    }

    /** Whether any weight carries x·xᵀ. */
    public boolean hasHessians() {
        for (Stats s : stats.values()) if (s.xtx != null) return true;
        return false;
    }

    /** The names of the weights, in order. */
    public List<String> names() {
        return new ArrayList<>(stats.keySet());
    }

    /** Groups of names that share one Stats object (by identity), in name order of their first member. */
    List<List<String>> sharing() {
        Map<Stats, List<String>> groups = new IdentityHashMap<>();
        LinkedHashMap<String, List<String>> ordered = new LinkedHashMap<>();
        for (var e : stats.entrySet()) {
            List<String> g = groups.computeIfAbsent(e.getValue(), k -> new ArrayList<>());
            if (g.isEmpty()) ordered.put(e.getKey(), g);
            g.add(e.getKey());
        }
        return new ArrayList<>(ordered.values());
    }
}
