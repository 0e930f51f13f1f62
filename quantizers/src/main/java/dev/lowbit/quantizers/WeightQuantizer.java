package dev.lowbit.quantizers;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FloatBits;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.TensorSource;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.format.WeightFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The output tensors of one quantized weight, in a layout. Their sizes are known up front; the quantization runs when
 * the first part is written and is dropped after the last, so one weight at a time is held on the heap.
 */
public final class WeightQuantizer {
    private final Recipe r;
    private final Tensor t;
    private final FloatSource src;
    private final Consumer<TensorReport> report;
    private final Weighting weighting;
    private final WeightEncoder encoder;
    private Object result;
    private int pending;
    private long outBytes;
    /** The double quantization's offset of plain scales, once the header needed it (NaN before). */
    private float plainOffset = Float.NaN;
    /** The plain scales the offset was taken from, until the weight is quantized with them (not read twice). */
    private float[] plainScales;

    WeightQuantizer(Recipe r, Tensor t, FloatSource src, Consumer<TensorReport> report) {
        this(r, t, src, report, Weighting.NONE, null);
    }

    /**
     * With calibration (the weight's importance and lowbit's scale search as weighting says) and, when encoder takes
     * the weight, another encoder (GPTQ; null: none).
     */
    WeightQuantizer(Recipe r, Tensor t, FloatSource src, Consumer<TensorReport> report, Weighting weighting, WeightEncoder encoder) {
        this.weighting = weighting;
        this.encoder = encoder;
        this.r = r;
        this.t = t;
        this.src = src;
        this.report = report;
    }

    private synchronized Object result() {
        if (result == null && encoder != null) result = EncodedWeight.of(encoder, r, t.name(), src);
        if (result == null) {
            float[] imp = weighting.importance(t.name());
            if (r.layout() == Layout.LOWBIT) {
                WeightFormat f = r.format(src.shape());
                if (weighting.searches() && f.withScaleSearch() != null) f = f.withScaleSearch();
                result = BlockQuantizer.quantize(src, f, t.name(), f.usesImportance() ? imp : null);
            } else result = switch (r.scheme()) {
                case NF4, FP4 -> FourBit.quantize(src, r.scheme() == Scheme.NF4 ? Codebook4.NF4 : Codebook4.FP4, r.block(), r.doubleQuant(), t.name(),
                        imp, weighting.searches(), plainOffset, plainScales);
                case INT8 -> Int8Row.quantize(src, t.name());
                default -> throw new IllegalStateException(r.scheme() + " has no hf-bnb layout");
            };
            plainScales = null;
        }
        return result;
    }

    private synchronized void done() {
        if (--pending == 0) {
            report.accept(new TensorReport(t.name(), r.scheme().cliName(), t.shape(), t.byteSize(), outBytes, error(result)));
            result = null;
        }
    }

    private static QuantError error(Object q) {
        return switch (q) {
            case FourBit f -> f.error();
            case Int8Row i -> i.error();
            case BlockQuantizer b -> b.error();
            default -> null;
        };
    }

    /** The parts to write, and the per-tensor __metadata__ entries of the lowbit layout. */
    List<TensorSource> parts(Map<String, String> metadata) {
        String w = t.name();
        long n = src.numel();
        long[] shape = src.shape();
        List<TensorSource> p = new ArrayList<>();
        if (r.layout() == Layout.LOWBIT) {
            WeightFormat f = r.format(shape);
            p.add(part(w, DType.U8, new long[] {shape[0], f.rowBytes(n / shape[0])}, q -> ((BlockQuantizer) q).data()));
            metadata.put("lowbit:" + w, describe(shape, f.blockSize()));
        } else if (r.scheme() == Scheme.INT8) {
            String base = w.endsWith(".weight") ? w.substring(0, w.length() - 7) : w;
            p.add(part(w, DType.I8, shape, q -> ((Int8Row) q).q()));
            p.add(part(base + ".SCB", DType.F32, new long[] {shape[0]}, q -> Parts.of(((Int8Row) q).scb())));
            p.add(constant(base + ".weight_format", DType.U8, new long[0], new byte[] {0}));
        } else fourBitParts(w, n, shape, p);
        pending = p.size();
        outBytes = p.stream().mapToLong(TensorSource::byteSize).sum();
        return p;
    }

    private void fourBitParts(String w, long n, long[] shape, List<TensorSource> p) {
        long blocks = (n + r.block() - 1) / r.block(), nested = (blocks + DoubleQuant.NESTED_BLOCK - 1) / DoubleQuant.NESTED_BLOCK;
        boolean dq = r.doubleQuant();
        Codebook4 cb = r.scheme() == Scheme.NF4 ? Codebook4.NF4 : Codebook4.FP4;
        p.add(part(w, DType.U8, new long[] {(n + 1) / 2, 1}, q -> ((FourBit) q).packed()));
        if (dq) p.add(part(w + ".absmax", DType.U8, new long[] {blocks}, q -> ((FourBit) q).nested().codes()));
        else p.add(part(w + ".absmax", DType.F32, new long[] {blocks}, q -> Parts.of(((FourBit) q).absmax())));
        p.add(constant(w + ".quant_map", DType.F32, new long[] {16}, Parts.of(cb.table())));
        if (dq) {
            p.add(part(w + ".nested_absmax", DType.F32, new long[] {nested}, q -> Parts.of(((FourBit) q).nested().nestedAbsmax())));
            p.add(constant(w + ".nested_quant_map", DType.F32, new long[] {256}, Parts.of(DynamicMap.signed())));
        }
        String stateName = w + ".quant_state.bitsandbytes__" + cb.bnbName();
        if (!dq || plainAbsmax()) {
            // the scales are plain absmax: their mean, the double quantization's offset, is known before quantizing,
            // so the header is bitsandbytes' bytes exactly
            if (dq) plainOffset = TorchSum.mean(plainScales = absmaxOnly());
            byte[] state = Parts.of(quantState(cb, shape, dq ? plainOffset : 0));
            p.add(constant(stateName, DType.U8, new long[] {state.length}, state));
        } else {
            // searched or GPTQ scales: the offset is the mean of the scales the codes were made with, known only after
            // quantizing; the JSON keeps a fixed length (trailing spaces, which json.loads ignores) so that the file's
            // header can be written first
            int len = Parts.of(quantState(cb, shape, 0f)).length - "0.0".length() + OFFSET_CHARS;
            p.add(part(stateName, DType.U8, new long[] {len}, q -> padded(Parts.of(quantState(cb, shape, ((FourBit) q).nested().offset())), len)));
        }
    }

    /** Room for any float32 in Python's repr (e.g. -1.2345678901234567e-05). */
    private static final int OFFSET_CHARS = 24;

    /** Whether the weight's block scales are its plain absmax (no importance, no scale search, no other encoder). */
    private boolean plainAbsmax() {
        return weighting.importance(t.name()) == null && !weighting.searches() && encoder == null;
    }

    private static byte[] padded(byte[] json, int len) {
        if (json.length > len) throw new IllegalStateException("quant_state of " + json.length + " bytes exceeds the " + len + " reserved");
        byte[] out = Arrays.copyOf(json, len);
        Arrays.fill(out, json.length, len, (byte) ' ');
        return out;
    }

    /** The per-block absmax alone (one cheap pass), for the double-quant offset the quant_state header must hold. */
    private float[] absmaxOnly() {
        long n = src.numel();
        int blocks = Math.toIntExact((n + r.block() - 1) / r.block());
        float[] a = new float[blocks];
        int block = r.block();
        Blocks.parallel(blocks, 1 << 12, (lo, hi) -> src.blockAbsmax(block, lo, hi, a, new float[Math.max(1, (1 << 14) / block) * block], t.name()));
        return a;
    }

    /** bitsandbytes' QuantState.as_dict(packed=True) non-tensor entries, as json.dumps writes them. */
    private String quantState(Codebook4 cb, long[] shape, float offset) {
        StringBuilder s = new StringBuilder("{\"quant_type\": \"").append(cb.bnbName()).append("\", \"blocksize\": ").append(r.block())
                .append(", \"dtype\": \"").append(r.computeDtype() != null ? r.computeDtype() : t.dtype().torchName()).append("\", \"shape\": [");
        for (int i = 0; i < shape.length; i++) s.append(i > 0 ? ", " : "").append(shape[i]);
        s.append("]");
        if (r.doubleQuant())
            s.append(", \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ").append(PyJson.number(offset));
        return s.append("}").toString();
    }

    /** The lowbit layout's __metadata__ entry of a weight: its format (scheme and block), source dtype and logical shape. */
    private String describe(long[] shape, int block) {
        ObjectNode m = JsonNodeFactory.instance.objectNode().put("scheme", r.scheme().cliName()).put("block", block).put("dtype", t.dtype().name());
        ArrayNode dims = m.putArray("shape");
        for (long d : shape) dims.add(d);
        return JsonTree.compact(m);
    }

    interface Extract {
        byte[] bytes(Object quantized);
    }

    private TensorSource part(String name, DType dtype, long[] shape, Extract ex) {
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return dtype; }
            public long[] shape() { return shape; }

            public void writeTo(OutputStream out) throws IOException {
                out.write(ex.bytes(result()));
                done();
            }
        };
    }

    private TensorSource constant(String name, DType dtype, long[] shape, byte[] bytes) {
        return part(name, dtype, shape, q -> bytes);
    }

    /** FP16/BF16: converted chunk by chunk while writing (RNE, NaN and ±Inf kept, FP16 overflow to Inf). */
    public static TensorSource half(Tensor t, DType to, Consumer<TensorReport> report) {
        return convert(t.name(), t.shape(), t.byteSize(), FloatSource.of(t), to, to == DType.F16 ? "fp16" : "bf16", report);
    }

    /** Any float source written as F32, F16 or BF16, chunk by chunk (RNE, NaN and ±Inf kept, FP16 overflow to Inf). */
    public static TensorSource convert(String name, long[] shape, long bytesIn, FloatSource src, DType to, String action, Consumer<TensorReport> report) {
        if (to != DType.F32 && to != DType.F16 && to != DType.BF16) throw new IllegalArgumentException("cannot write " + to + " from floats");
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return to; }
            public long[] shape() { return shape; }

            public void writeTo(OutputStream out) throws IOException {
                QuantError.Acc err = new QuantError.Acc();
                float[] v = new float[1 << 14];
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                long n = src.numel();
                for (long start = 0; start < n; start += v.length) {
                    int len = (int) Math.min(v.length, n - start);
                    float[] chunk = len == v.length ? v : Arrays.copyOf(v, len);
                    src.read(start, chunk);
                    b.clear();
                    for (float x : chunk) {
                        if (to == DType.F32) {
                            b.putFloat(x);
                            continue;
                        }
                        short h = to == DType.F16 ? FloatBits.floatToF16(x) : FloatBits.floatToBf16(x);
                        b.putShort(h);
                        if (Float.isFinite(x)) err.add(x, to == DType.F16 ? FloatBits.f16ToFloat(h) : FloatBits.bf16ToFloat(h));
                    }
                    out.write(b.array(), 0, to.size() * len);
                }
                report.accept(new TensorReport(name, action, shape, bytesIn, byteSize(), to == DType.F32 ? null : err.result()));
            }
        };
    }
}
