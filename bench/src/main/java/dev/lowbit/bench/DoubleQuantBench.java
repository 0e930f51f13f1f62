package dev.lowbit.bench;

import dev.lowbit.quantizers.DoubleQuant;
import dev.lowbit.quantizers.DynamicMap;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * QLoRA double quantization's codes of 2^20 block scales (lognormal, as NF4 absmax of real weights are), a nested block
 * of 256 at a time as {@link DoubleQuant} codes them: the scalar search ({@link DynamicMap#signedCode}) against its
 * vector lanes ({@link DynamicMap#signedCodes}). Time per operation / 2^20 = ns per scale.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DoubleQuantBench {
    @Param({"scalar", "lanes"})
    public String impl;

    static final int SCALES = 1 << 20, NESTED = DoubleQuant.NESTED_BLOCK;
    float[] absmax = new float[SCALES], inv = new float[SCALES / NESTED];
    byte[] codes = new byte[SCALES];
    float offset;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(7);
        double sum = 0;
        for (int i = 0; i < SCALES; i++) sum += absmax[i] = (float) Math.exp(0.5 * gaussian(r) - 4);
        offset = (float) (sum / SCALES);
        for (int g = 0; g < inv.length; g++) {
            float m = 0;
            for (int i = g * NESTED; i < (g + 1) * NESTED; i++) m = Math.max(m, Math.abs(absmax[i] - offset));
            inv[g] = 1f / m;
        }
    }

    static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    @Benchmark
    public byte[] code() {
        boolean lanes = impl.equals("lanes");
        for (int g = 0, lo = 0; lo < SCALES; g++, lo += NESTED) {
            if (lanes) DynamicMap.signedCodes(absmax, lo, lo + NESTED, offset, inv[g], codes);
            else for (int i = lo; i < lo + NESTED; i++) codes[i] = (byte) DynamicMap.signedCode((absmax[i] - offset) * inv[g]);
        }
        return codes;
    }
}
