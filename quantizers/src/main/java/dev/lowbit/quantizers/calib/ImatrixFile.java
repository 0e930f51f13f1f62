package dev.lowbit.quantizers.calib;

import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufValueType;
import dev.lowbit.formats.gguf.GgufWriter;
import dev.lowbit.formats.gguf.GgufWriter.TensorSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * llama.cpp's importance-matrix files (tools/imatrix/imatrix.cpp, common/imatrix-loader.cpp). GGUF: metadata
 * general.type = "imatrix", imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size; per weight, sorted by name,
 * {@code <name>.in_sum2} (F32, the raw sum of x² per column) and {@code <name>.counts} (F32, tokens summed). lowbit
 * adds {@code <name>.xtx} (F32 [cols, cols], the raw sum of x·xᵀ) when collected, once per shared input, the other
 * weights of that input naming it in the key {@code lowbit.imatrix.xtx.<name>}; llama.cpp ignores both. The legacy
 * .dat format (int32 entry count; per entry name, ncall, nval, nval floats of mean·ncall; optional chunk count and
 * dataset) is read too.
 */
public final class ImatrixFile {
    private ImatrixFile() {}

    static final String XTX_SUFFIX = ".xtx", XTX_KEY = "lowbit.imatrix.xtx.";

    public static Imatrix read(Path file) {
        if (!Files.isRegularFile(file)) throw new FormatException(file, "no such importance matrix file");
        if (isGguf(file)) return readGguf(file);
        return readLegacy(file);
    }

    private static boolean isGguf(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt() == GgufFile.MAGIC;
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e.getMessage());
        }
    }

    private static Imatrix readGguf(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(file, arena);
            Map<String, GgufTensor> sums = new LinkedHashMap<>(), counts = new HashMap<>(), xtx = new HashMap<>();
            for (GgufTensor t : f.tensors()) {
                String n = t.name();
                if (n.endsWith(".in_sum2")) sums.put(n.substring(0, n.length() - 8), t);
                else if (n.endsWith(".counts")) counts.put(n.substring(0, n.length() - 7), t);
                else if (n.endsWith(XTX_SUFFIX)) xtx.put(n.substring(0, n.length() - XTX_SUFFIX.length()), t);
            }
            if (sums.isEmpty()) throw new FormatException(file, "no <name>.in_sum2 tensors: not an importance matrix");
            Map<String, Imatrix.Stats> stats = new HashMap<>();
            for (var e : sums.entrySet()) {
                String name = e.getKey();
                GgufTensor c = counts.get(name);
                if (c == null) throw new FormatException(file, name, "has in_sum2 but no counts");
                if (e.getValue().type() != 0 || c.type() != 0) throw new FormatException(file, name, "in_sum2 and counts must be F32");
                if (c.numel() != 1) throw new FormatException(file, name, c.numel() + " counts (a mixture of experts): lowbit's models have one matrix per weight");
                int cols = Math.toIntExact(e.getValue().numel());
                double[] sum2 = floats(e.getValue().data(), cols);
                long count = Math.round(c.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
                double[] x = null;
                GgufTensor xt = xtx.get(name);
                if (xt != null) {
                    if (xt.type() != 0 || xt.numel() != (long) cols * cols) throw new FormatException(file, xt.name(), "must be F32 [" + cols + ", " + cols + "]");
                    x = floats(xt.data(), cols * cols);
                }
                stats.put(name, new Imatrix.Stats(sum2, x, count));
            }
            for (var kv : f.metadata().entrySet()) {
                if (!kv.getKey().startsWith(XTX_KEY)) continue;
                String name = kv.getKey().substring(XTX_KEY.length());
                Imatrix.Stats owner = stats.get(kv.getValue().asString()), s = stats.get(name);
                if (owner == null || s == null || owner.xtx == null || owner.cols() != s.cols())
                    throw new FormatException(file, kv.getKey() + " names '" + kv.getValue().asString() + "', which has no matching xtx");
                stats.put(name, new Imatrix.Stats(s.sum2, owner.xtx, s.count));
            }
            List<?> ds = f.array("imatrix.datasets", GgufValueType.STRING);
            List<String> datasets = new ArrayList<>();
            if (ds != null) for (Object o : ds) datasets.add((String) o);
            Long chunks = f.integer("imatrix.chunk_count"), size = f.integer("imatrix.chunk_size");
            if (ds == null || chunks == null || size == null)
                throw new FormatException(file, "missing imatrix metadata (imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size): llama-quantize refuses such a file");
            return new Imatrix(stats, datasets, (int) (long) chunks, (int) (long) size);
        }
    }

    private static double[] floats(MemorySegment seg, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return out;
    }

    private static Imatrix readLegacy(Path file) {
        ByteBuffer b;
        try {
            b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e.getMessage());
        }
        try {
            int n = b.getInt();
            if (n < 1) throw new FormatException(file, "not a GGUF or legacy .dat importance matrix (entry count " + n + ")");
            Map<String, Imatrix.Stats> stats = new HashMap<>();
            for (int i = 0; i < n; i++) {
                int len = b.getInt();
                if (len < 1 || len > b.remaining()) throw new FormatException(file, "entry " + (i + 1) + ": bad name length " + len);
                byte[] name = new byte[len];
                b.get(name);
                int ncall = b.getInt(), nval = b.getInt();
                if (nval < 1 || (long) nval * 4 > b.remaining()) throw new FormatException(file, "entry " + (i + 1) + ": bad value count " + nval);
                double[] sums = new double[nval];
                for (int j = 0; j < nval; j++) sums[j] = b.getFloat();
                stats.put(new String(name, StandardCharsets.UTF_8), new Imatrix.Stats(sums, null, ncall));
            }
            int chunks = 0;
            List<String> datasets = new ArrayList<>();
            if (b.remaining() >= 4) {
                chunks = b.getInt();
                if (b.remaining() >= 4) {
                    int len = b.getInt();
                    if (len > 0 && len <= b.remaining()) {
                        byte[] d = new byte[len];
                        b.get(d);
                        datasets.add(new String(d, StandardCharsets.UTF_8));
                    }
                }
            }
            return new Imatrix(stats, datasets, chunks, 0);
        } catch (BufferUnderflowException e) {
            throw new FormatException(file, "truncated: not a GGUF or legacy .dat importance matrix");
        }
    }

    /** Writes the GGUF form (atomically), which llama-quantize --imatrix reads. */
    public static void write(Path target, Imatrix m) throws IOException {
        SequencedMap<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("general.type", GgufValue.str("imatrix"));
        kv.put("imatrix.datasets", GgufValue.array(GgufValueType.STRING, m.datasets()));
        kv.put("imatrix.chunk_count", GgufValue.u32(m.chunkCount()));
        kv.put("imatrix.chunk_size", GgufValue.u32(m.chunkSize()));
        List<TensorSpec> tensors = new ArrayList<>();
        for (var e : m.stats().entrySet()) {
            Imatrix.Stats s = e.getValue();
            int cols = s.cols();
            tensors.add(new TensorSpec(e.getKey() + ".in_sum2", 0, new long[] {cols, 1}, 4L * cols, out -> floats(out, s.sum2)));
            tensors.add(new TensorSpec(e.getKey() + ".counts", 0, new long[] {1, 1}, 4, out -> floats(out, new double[] {s.count})));
        }
        for (List<String> group : m.sharing()) {
            Imatrix.Stats s = m.stats().get(group.getFirst());
            if (s.xtx == null) continue;
            long cols = s.cols();
            tensors.add(new TensorSpec(group.getFirst() + XTX_SUFFIX, 0, new long[] {cols, cols}, 4 * cols * cols, out -> floats(out, s.xtx)));
            for (String other : group.subList(1, group.size())) kv.put(XTX_KEY + other, GgufValue.str(group.getFirst()));
        }
        GgufWriter.write(target, kv, tensors, null);
    }

    private static void floats(OutputStream out, double[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            if (!b.hasRemaining()) {
                out.write(b.array(), 0, b.position());
                b.clear();
            }
            b.putFloat((float) x);
        }
        out.write(b.array(), 0, b.position());
    }
}
