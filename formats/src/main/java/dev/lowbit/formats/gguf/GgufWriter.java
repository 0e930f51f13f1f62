package dev.lowbit.formats.gguf;

import dev.lowbit.formats.CountingOutputStream;
import dev.lowbit.formats.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Streams a GGUF v3 file (ggml/src/gguf.cpp, gguf-py's GGUFWriter): magic, version, tensor and KV counts, the KVs in
 * the given order, the tensor infos (dims in ggml order, offsets relative to the data section), zero padding to
 * {@code general.alignment} (32 unless that key says otherwise), then each tensor's bytes, each padded to the
 * alignment. Tensors are produced one at a time by their {@link Body}, so only one is ever on the heap. The file is
 * built beside the target and renamed into place on success; on failure or interrupt the temp file is deleted.
 */
public final class GgufWriter {
    private GgufWriter() {}

    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int VERSION = 3;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    /** Writes exactly {@link TensorSpec#bytes()} bytes of one tensor's data. */
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /**
     * One tensor: its GGUF name, ggml type id, dims in ggml order (ne[0] = the contiguous row length, i.e. numpy's
     * shape reversed), its byte size and the code producing the bytes.
     */
    public record TensorSpec(String name, int ggmlType, long[] ne, long bytes, Body body) {}

    /** Called after each tensor with the number of tensor bytes written so far. */
    public interface Progress {
        void update(long bytesDone);
    }

    public static int alignment(Map<String, GgufValue> kv) {
        GgufValue a = kv.get(ALIGNMENT_KEY);
        if (a == null) return DEFAULT_ALIGNMENT;
        long v = a.asLong();
        if (v <= 0 || (v & (v - 1)) != 0 || v > (1 << 30)) throw new IllegalArgumentException(ALIGNMENT_KEY + " must be a power of two, got " + v);
        return (int) v;
    }

    public static long pad(long x, long n) {
        return (x + n - 1) / n * n;
    }

    /** The header, KVs, tensor infos and padding: everything before the first tensor's data. */
    public static byte[] meta(SequencedMap<String, GgufValue> kv, List<TensorSpec> tensors) {
        int align = alignment(kv);
        Le out = new Le();
        out.u32(MAGIC);
        out.u32(VERSION);
        out.u64(tensors.size());
        out.u64(kv.size());
        for (var e : kv.entrySet()) {
            out.str(e.getKey());
            out.u32(e.getValue().type().id());
            value(out, e.getValue().type(), e.getValue().elementType(), e.getValue().value(), e.getKey());
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (TensorSpec t : tensors) {
            if (!names.add(t.name())) throw new IllegalArgumentException("duplicate tensor name " + t.name());
            out.str(t.name());
            out.u32(t.ne().length);
            for (long d : t.ne()) out.u64(d);
            out.u32(t.ggmlType());
            out.u64(offset);
            offset += pad(t.bytes(), align);
        }
        out.zeros((int) (pad(out.size(), align) - out.size()));
        return out.toByteArray();
    }

    /** The size of the file {@link #write} produces. */
    public static long fileSize(SequencedMap<String, GgufValue> kv, List<TensorSpec> tensors) {
        int align = alignment(kv);
        long n = meta(kv, tensors).length;
        for (TensorSpec t : tensors) n += pad(t.bytes(), align);
        return n;
    }

    /** Writes the whole file to target (atomically). */
    public static void write(Path target, SequencedMap<String, GgufValue> kv, List<TensorSpec> tensors, Progress progress) throws IOException {
        byte[] meta = meta(kv, tensors);
        int align = alignment(kv);
        AtomicFiles.write(target, out -> {
            out.write(meta);
            long done = 0;
            for (TensorSpec t : tensors) {
                if (Thread.currentThread().isInterrupted()) throw new InterruptedIOException("interrupted while writing " + target);
                CountingOutputStream c = new CountingOutputStream(out);
                t.body().write(c);
                if (c.count() != t.bytes())
                    throw new IllegalStateException("tensor " + t.name() + " produced " + c.count() + " bytes, its info says " + t.bytes());
                long p = pad(t.bytes(), align) - t.bytes();
                for (long i = 0; i < p; i++) out.write(0);
                done += t.bytes();
                if (progress != null) progress.update(done);
            }
        }, true);
    }

    private static void value(Le out, GgufValueType type, GgufValueType elem, Object v, String key) {
        if (type != GgufValueType.ARRAY) {
            scalar(out, type, v);
            return;
        }
        if (elem == GgufValueType.ARRAY) throw new IllegalArgumentException(key + ": nested arrays are not supported");
        List<?> l = (List<?>) v;
        out.u32(elem.id());
        out.u64(l.size());
        for (Object x : l) scalar(out, elem, x); // not a recursive call: C2 compiled that with itself inlined (45 ms)
    }

    private static void scalar(Le out, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> out.write((int) (long) (Long) v);
            case UINT16, INT16 -> out.u16((int) (long) (Long) v);
            case UINT32, INT32 -> out.u32((int) (long) (Long) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((float) (double) (Double) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.write((Boolean) v ? 1 : 0);
            case STRING -> out.str((String) v);
            case ARRAY -> throw new IllegalStateException("an array is not a scalar");
        }
    }

    /** A little-endian byte buffer. */
    static final class Le extends ByteArrayOutputStream {
        Le() {
            super(1 << 16);
        }

        void u16(int v) {
            write(v);
            write(v >>> 8);
        }

        void u32(int v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void zeros(int n) {
            for (int i = 0; i < n; i++) write(0);
        }
    }
}
