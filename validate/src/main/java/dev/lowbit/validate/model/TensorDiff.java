package dev.lowbit.validate.model;

import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.kernels.Weights;
import dev.lowbit.quantizers.QuantError;
import dev.lowbit.quantizers.Quantizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Tensor by tensor, how far the candidate's (dequantized) values are from the base's. */
public final class TensorDiff {
    private TensorDiff() {}

    public record Row(String name, String format, QuantError error) {}

    public static List<Row> compare(Path base, Path candidate) {
        if (isGguf(base) || isGguf(candidate)) return compareBound(base, candidate);
        ModelConfig cfg = ModelConfig.read(base);
        List<Row> rows = new ArrayList<>();
        try (Checkpoint b = Checkpoint.open(base); Checkpoint c = Checkpoint.open(candidate)) {
            QuantizedWeights q = new QuantizedWeights(c);
            for (Tensor t : b.tensors()) {
                boolean conv1d = cfg.arch() == Architecture.GPT2 && Quantizer.CONV1D.matcher(t.name()).matches();
                int rows2 = t.rank() == 2 ? t.dim(conv1d ? 1 : 0) : 0, cols2 = t.rank() == 2 ? t.dim(conv1d ? 0 : 1) : 0;
                Weights w = t.rank() == 2 ? q.find(t.name(), rows2, cols2) : null;
                if (w != null) rows.add(new Row(t.name(), w.format(), quantized(t, w, conv1d)));
                else if (c.has(t.name()) && c.tensor(t.name()).numel() == t.numel())
                    rows.add(new Row(t.name(), c.tensor(t.name()).dtype().name().toLowerCase(Locale.ROOT), plain(t, c.tensor(t.name()))));
            }
        }
        return rows;
    }

    private static boolean isGguf(Path p) {
        return GgufFile.isGguf(p) && Files.isRegularFile(p);
    }

    /**
     * Models stored differently (a GGUF file on either side): the tensors each runs with, as bound by the engine, under
     * transformers names and layouts; the format is the candidate's (its GGUF type for GGUF weights).
     */
    static List<Row> compareBound(Path base, Path candidate) {
        List<Row> rows = new ArrayList<>();
        try (Transformer b = Transformer.open(base); Transformer c = Transformer.open(candidate)) {
            Map<String, Object> bt = b.boundTensors(), ct = c.boundTensors();
            for (var e : bt.entrySet()) {
                Object x = e.getValue(), y = ct.get(e.getKey());
                if (x instanceof Weights wx && y instanceof Weights wy && wx.rows() == wy.rows() && wx.cols() == wy.cols())
                    rows.add(new Row(e.getKey(), wy.format().toLowerCase(Locale.ROOT), matrices(wx, wy)));
                else if (x instanceof float[] vx && y instanceof float[] vy && vx.length == vy.length) {
                    QuantError.Acc acc = new QuantError.Acc();
                    for (int i = 0; i < vx.length; i++) acc.add(vx[i], vy[i]);
                    rows.add(new Row(e.getKey(), "f32", acc.result()));
                }
            }
        }
        return rows;
    }

    private static QuantError matrices(Weights a, Weights b) {
        QuantError.Acc acc = new QuantError.Acc();
        float[] ra = new float[a.cols()], rb = new float[b.cols()];
        for (int r = 0; r < a.rows(); r++) {
            a.decodeRows(r, 1, ra);
            b.decodeRows(r, 1, rb);
            for (int i = 0; i < ra.length; i++) acc.add(ra[i], rb[i]);
        }
        return acc.result();
    }

    private static QuantError quantized(Tensor t, Weights w, boolean transposed) {
        QuantError.Acc acc = new QuantError.Acc();
        float[] row = new float[w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.decodeRows(r, 1, row);
            for (int c = 0; c < row.length; c++) {
                long i = transposed ? (long) c * w.rows() + r : (long) r * w.cols() + c;
                acc.add((float) t.getDouble(i), row[c]);
            }
        }
        return acc.result();
    }

    private static QuantError plain(Tensor a, Tensor b) {
        QuantError.Acc acc = new QuantError.Acc();
        for (long i = 0; i < a.numel(); i++) acc.add((float) a.getDouble(i), (float) b.getDouble(i));
        return acc.result();
    }
}
