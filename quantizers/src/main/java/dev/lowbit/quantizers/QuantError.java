package dev.lowbit.quantizers;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * How far a dequantized tensor is from the original: RMSE, max |error|, SNR in dB (signal power over error power)
 * and relative Frobenius error ‖W − Ŵ‖ / ‖W‖.
 */
public record QuantError(long count, double rmse, double maxAbs, double snrDb, double relFrobenius) {

    /**
     * Accumulates squared signal and error in double totals (vector paths sum up to {@value #CHUNK} values in float32
     * lanes first); merge() combines partial sums from parallel blocks.
     */
    public static final class Acc {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Integer> I = F.withLanes(int.class);
        private static final int CHUNK = 256;

        long n;
        double signal, error, max;
        private float[] lanes; // add()'s scratch, 3l floats
        private float[] running; // running(): the partials of `pending` values not yet in the totals
        private int pending;

        public void add(float original, float dequantized) {
            double e = (double) original - dequantized;
            n++;
            signal += (double) original * original;
            error += e * e;
            max = Math.max(max, Math.abs(e));
        }

        /**
         * Adds original[oOff + i] against dequantized[dOff + i] for i in [0, len). Chunks of {@value #CHUNK} values are
         * summed in float vector lanes (squares by FMA, |error| maxed over its bits: finite non-negative floats order
         * like their bits), and each chunk's lanes are added to the double totals in lane order: the same statistics as
         * add() element by element up to float rounding within a chunk, and the same numbers on every run.
         */
        public void add(float[] original, int oOff, float[] dequantized, int dOff, int len) {
            int l = F.length();
            if (lanes == null) lanes = new float[3 * l];
            double s = signal, err = error, m = max;
            int i = 0;
            while (i < F.loopBound(len)) {
                int end = Math.min(F.loopBound(len), i + CHUNK);
                FloatVector vs = FloatVector.zero(F), ve = FloatVector.zero(F);
                IntVector vm = IntVector.zero(I);
                for (; i < end; i += l) {
                    FloatVector o = FloatVector.fromArray(F, original, oOff + i), e = o.sub(FloatVector.fromArray(F, dequantized, dOff + i));
                    vs = o.fma(o, vs);
                    ve = e.fma(e, ve);
                    vm = ((IntVector) e.abs().reinterpretShape(I, 0)).max(vm);
                }
                // the loop-carried sums are only arguments and are read through copies (see BlockDots.extreme32)
                VectorMask<Float> all = F.maskAll(true);
                FloatVector.zero(F).blend(vs, all).intoArray(lanes, 0);
                FloatVector.zero(F).blend(ve, all).intoArray(lanes, l);
                ((FloatVector) IntVector.zero(I).blend(vm, I.maskAll(true)).reinterpretShape(F, 0)).intoArray(lanes, 2 * l);
                for (int k = 0; k < l; k++) {
                    s += lanes[k];
                    err += lanes[l + k];
                    m = Math.max(m, lanes[2 * l + k]);
                }
            }
            for (; i < len; i++) {
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

        /**
         * The running lane partials a caller adds its own vector lanes into, then calls {@link #addedLanes}: Σ original²
         * in [0, l), Σ error² in [l, 2l) and max |error| (as float bits) in [2l, 3l), l the preferred float lane count.
         * They reach the double totals every {@value #CHUNK} values and by result(). Vectors are added in place, not
         * handed over as arguments: a vector passed to a method C2 compiles on its own is boxed.
         */
        float[] running() {
            if (running == null) running = new float[3 * F.length()];
            return running;
        }

        /** Counts the count values whose partials the caller added into {@link #running()}. */
        void addedLanes(int count) {
            n += count;
            if ((pending += count) >= CHUNK) flush();
        }

        private void flush() {
            int l = F.length();
            for (int k = 0; k < l; k++) {
                signal += running[k];
                error += running[l + k];
                max = Math.max(max, running[2 * l + k]);
            }
            Arrays.fill(running, 0f);
            pending = 0;
        }

        public synchronized void merge(Acc o) {
            if (o.pending > 0) o.flush();
            n += o.n;
            signal += o.signal;
            error += o.error;
            max = Math.max(max, o.max);
        }

        public QuantError result() {
            if (pending > 0) flush();
            double snr = error == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / error);
            return new QuantError(n, n == 0 ? 0 : Math.sqrt(error / n), max, snr, signal == 0 ? 0 : Math.sqrt(error / signal));
        }
    }
}
