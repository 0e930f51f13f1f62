package dev.lowbit.bench;

import dev.lowbit.formats.DType;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.Codebook4;
import dev.lowbit.quantizers.FloatSource;
import dev.lowbit.quantizers.FourBit;
import dev.lowbit.quantizers.BlockQuantizer;
import dev.lowbit.quantizers.format.WeightFormats;
import dev.lowbit.quantizers.Int8Row;
import dev.lowbit.quantizers.WeightQuantizer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
 * Quantization throughput in GB/s of float32 input (secondary result `gb`), per scheme, on all cores and on one
 * (-Dlowbit.threads=1), beside a plain copy of the same bytes between two off-heap segments in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class QuantizeBench {
    @Param({"copy", "fp16", "bf16", "int8", "int8-block", "int4", "nf4", "nf4-dq"})
    public String scheme;

    static final int ROWS = 2048, COLS = 2048;
    Arena arena;
    Tensor tensor;
    MemorySegment copyTarget;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(4L * ROWS * COLS, 64);
        SplittableRandom r = new SplittableRandom(5);
        for (long i = 0; i < (long) ROWS * COLS; i++)
            seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * i, (float) (r.nextDouble() - 0.5));
        tensor = new Tensor("w", DType.F32, new long[] {ROWS, COLS}, seg);
        copyTarget = arena.allocate(seg.byteSize(), 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double gb;
    }

    Object run() throws IOException {
        FloatSource src = FloatSource.of(tensor);
        return switch (scheme) {
            case "copy" -> copyTarget.copyFrom(tensor.data());
            case "fp16", "bf16" -> {
                WeightQuantizer.half(tensor, scheme.equals("fp16") ? DType.F16 : DType.BF16, t -> {}).writeTo(OutputStream.nullOutputStream());
                yield null;
            }
            case "int8" -> Int8Row.quantize(src, "w");
            case "int8-block", "int4" -> BlockQuantizer.quantize(src, WeightFormats.lowbit(scheme, 64, (int) src.shape()[1]), "w");
            case "nf4" -> FourBit.quantize(src, Codebook4.NF4, 64, false, "w");
            default -> FourBit.quantize(src, Codebook4.NF4, 64, true, "w");
        };
    }

    @Benchmark
    public Object allCores(Bytes b) throws IOException {
        b.gb += tensor.byteSize() / 1e9;
        return run();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlowbit.threads=1"})
    public Object oneThread(Bytes b) throws IOException {
        b.gb += tensor.byteSize() / 1e9;
        return run();
    }
}
