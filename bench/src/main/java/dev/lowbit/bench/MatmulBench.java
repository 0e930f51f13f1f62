package dev.lowbit.bench;

import dev.lowbit.formats.FloatBits;
import dev.lowbit.kernels.Bf16Weights;
import dev.lowbit.kernels.FourBitWeights;
import dev.lowbit.kernels.BlockWeights;
import dev.lowbit.kernels.Int8RowWeights;
import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.FloatSource;
import dev.lowbit.quantizers.FourBit;
import dev.lowbit.quantizers.BlockQuantizer;
import dev.lowbit.quantizers.format.WeightFormat;
import dev.lowbit.quantizers.format.WeightFormats;
import dev.lowbit.quantizers.Int8Row;
import dev.lowbit.kernels.F16Weights;
import dev.lowbit.kernels.F32Weights;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.ScalarOps;
import dev.lowbit.kernels.VectorOps;
import dev.lowbit.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Activations [tokens × in] times weights [out × in] as perplexity runs it, per weight layout, for the Vector API
 * kernels and their scalar twins; the GGUF block types (Q8_0 ... Q6_K) as the engine runs a .gguf file. The
 * secondary result `gflop` is the rate in GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBench {
    @Param({"F32", "F16", "BF16", "INT8", "INT8-BLOCK", "INT4", "NF4", "NF4-DQ", "Q8_0", "Q4_0", "Q4_1", "IQ4_NL", "Q4_K", "Q6_K"})
    public String dtype;

    @Param({"panama", "scalar"})
    public String impl;

    /** tokens × rows × cols: the 82M fixture's gate/up (512x2048x768) and down (512x768x2048) projections, and a square one. */
    @Param({"512x2048x768", "512x768x2048", "512x2048x2048"})
    public String shape;

    Arena arena;
    Weights weights;
    VectorOps ops;
    float[] x, out;
    int tokens;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        tokens = Integer.parseInt(s[0]);
        int rows = Integer.parseInt(s[1]), cols = Integer.parseInt(s[2]);
        SplittableRandom r = new SplittableRandom(1);
        arena = Arena.ofShared();
        ops = impl.equals("scalar") ? new ScalarOps() : Kernels.ops();
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() - 0.5);
        out = new float[tokens * rows];
        if (!dtype.startsWith("F")) {
            weights = quantized(rows, cols, r);
            return;
        }
        int size = dtype.equals("F32") ? 4 : 2;
        MemorySegment seg = arena.allocate((long) rows * cols * size);
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) (r.nextDouble() - 0.5);
            if (size == 4) seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * i, v);
            else seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * i,
                    dtype.equals("F16") ? FloatBits.floatToF16(v) : FloatBits.floatToBf16(v));
        }
        weights = switch (dtype) {
            case "F32" -> new F32Weights(seg, rows, cols);
            case "F16" -> new F16Weights(seg, rows, cols);
            default -> new Bf16Weights(seg, rows, cols);
        };
    }

    /** The layouts `lowbit quantize` writes, quantized from random values and read by the engine's weight classes. */
    private Weights quantized(int rows, int cols, SplittableRandom r) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
        FloatSource src = new FloatSource() {
            public long[] shape() { return new long[] {rows, cols}; }
            public void read(long start, float[] dst) { System.arraycopy(v, (int) start, dst, 0, dst.length); }
        };
        return switch (dtype) {
            case "INT8" -> {
                Int8Row q = Int8Row.quantize(src, "w");
                yield new Int8RowWeights(MemorySegment.ofArray(q.q()), q.scb(), rows, cols);
            }
            case "INT8-BLOCK", "INT4" -> {
                WeightFormat f = WeightFormats.lowbit(dtype.toLowerCase(Locale.ROOT), 64, cols);
                yield new BlockWeights(MemorySegment.ofArray(BlockQuantizer.quantize(src, f, "w").data()), f, rows, cols);
            }
            case "Q8_0", "Q4_0", "Q4_1", "IQ4_NL", "Q4_K", "Q6_K" -> {
                WeightFormat f = WeightFormats.named(dtype);
                byte[] q = new byte[(int) (rows * f.rowBytes(cols))];
                f.quantize(v, 0, v.length, q, 0);
                yield new BlockWeights(MemorySegment.ofArray(q), f, rows, cols);
            }
            default -> {
                FourBit q = FourBit.quantize(src, Codebook4.NF4, 64, dtype.equals("NF4-DQ"), "w");
                yield new FourBitWeights(MemorySegment.ofArray(q.packed()), q.effectiveAbsmax(), Codebook4.NF4, 64, rows, cols);
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Counts GFLOP done, so JMH reports GFLOP/s as a secondary result. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @Benchmark
    public float[] matmul(Flops f) {
        Kernels.matmul(ops, weights, x, tokens, out, null);
        f.gflop += 2.0 * tokens * weights.rows() * weights.cols() / 1e9;
        return out;
    }
}
