package dev.lowbit.quantizers;

/**
 * How far a dequantized tensor is from the original: RMSE, max |error|, SNR in dB (signal power over error power)
 * and relative Frobenius error ‖W − Ŵ‖ / ‖W‖.
 */
public record QuantError(long count, double rmse, double maxAbs, double snrDb, double relFrobenius) {

    /** Accumulates squared signal and error in double; merge() combines partial sums from parallel blocks. */
    public static final class Acc {
        long n;
        double signal, error, max;

        public void add(float original, float dequantized) {
            double e = (double) original - dequantized;
            n++;
            signal += (double) original * original;
            error += e * e;
            max = Math.max(max, Math.abs(e));
        }

        /**
         * Adds original[oOff + i] against dequantized[dOff + i] for i in [0, len): the same sums in the same order as
         * add() element by element (so the same numbers), kept in locals rather than fields while the loop runs.
         */
        public void add(float[] original, int oOff, float[] dequantized, int dOff, int len) {
            double s = signal, err = error, m = max;
            for (int i = 0; i < len; i++) {
                double o = original[oOff + i], e = o - dequantized[dOff + i];
                s += o * o;
                err += e * e;
                m = Math.max(m, Math.abs(e));
            }
            n += len;
            signal = s;
            error = err;
            max = m;
        }

        public synchronized void merge(Acc o) {
            n += o.n;
            signal += o.signal;
            error += o.error;
            max = Math.max(max, o.max);
        }

        public QuantError result() {
            double snr = error == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / error);
            return new QuantError(n, n == 0 ? 0 : Math.sqrt(error / n), max, snr, signal == 0 ? 0 : Math.sqrt(error / signal));
        }
    }
}
