package dev.lowbit.validate.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.kernels.Int8LtWeights;
import dev.lowbit.quantizers.Rewriter;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.MatVec;
import dev.lowbit.kernels.VectorOps;
import dev.lowbit.kernels.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Causal LM forward over independent sequences of n tokens (positions 0..n-1 each, full causal attention), batched
 * so the matrix multiplies see batch·n rows; runs from the mapped weights: GPT-2, BLOOM, Llama/Mistral and Qwen2.
 * For generation, {@link #forward(int[], int, KvCache...)} continues sequences from their {@link KvCache}s.
 */
public final class Transformer implements AutoCloseable {
    private final Runnable closer;
    private final ModelWeights w;
    private final ModelConfig c;
    private final VectorOps ops = Kernels.ops();
    private final RopeTables rope;
    private final boolean interleaved;
    private final float[] slopes;
    /** Each layer's attention window ({@link ModelConfig#slidingWindow}), 0 for the whole context. */
    private final int[] windows;
    /** Tokens per sequence of the forward pass under way (LLM.int8 finds outlier columns per sequence). */
    private int seqLen;
    /** Sees the input of every linear layer before it is applied (calibration), or null. */
    private ActivationObserver observer;
    /**
     * A layer's outputs, reused by the next layer (one forward pass at a time per Transformer): every element is
     * written before it is read. Allocating them per layer zeroed ~15 MiB per layer at ctx 512 on the calling thread
     * while the kernel threads waited. {@link #FRESH} allocates, as does every slot while an observer may keep inputs.
     */
    private final float[][] buffers = new float[9][];
    private static final int FRESH = -1, Q = 0, K = 1, V = 2, ATTN = 3, O = 4, UP = 5, GATE = 6, DOWN = 7, QKV = 8;

    /** config.json keys of lowbit's own, which Hugging Face ignores: the q/k row layout, and ALiBi slope interpolation. */
    public static final String ROPE_LAYOUT_KEY = Rewriter.ROPE_LAYOUT_KEY, ALIBI_SCALE_KEY = Rewriter.ALIBI_SCALE_KEY,
            INT8_RUNTIME_KEY = QuantizedWeights.INT8_RUNTIME_KEY;

    private Transformer(Checkpoint checkpoint, ModelConfig c) {
        this(c, ModelWeights.bind(c, checkpoint), checkpoint::close, checkpoint.dir().resolve("config.json"));
    }

    /** The engine over bound weights; closer releases what they map, configFile names the config in errors. */
    Transformer(ModelConfig c, ModelWeights w, Runnable closer, Path configFile) {
        this.closer = closer;
        this.c = c;
        this.w = w;
        this.rope = c.arch().usesRope() ? new RopeTables(c) : null;
        String layout = c.raw().path(ROPE_LAYOUT_KEY).asText("half");
        if (!layout.equals("half") && !layout.equals("interleaved"))
            throw new FormatException(configFile, ROPE_LAYOUT_KEY + " must be half or interleaved, not '" + layout + "'");
        this.interleaved = layout.equals("interleaved");
        this.slopes = c.arch() == Architecture.BLOOM ? Alibi.slopes(c.heads(), c.raw().path(ALIBI_SCALE_KEY).asDouble(1.0)) : null;
        this.windows = new int[c.layers()];
        for (int i = 0; i < windows.length; i++) windows[i] = c.slidingWindow(i);
    }

    /** Opens a model folder (config.json and its safetensors) or a .gguf file; closed with this object. */
    public static Transformer open(Path dir) {
        return open(dir, Map.of());
    }

    /** Sets config keys to values (maps, lists, numbers, strings) as JSON; ObjectMapper only when there are some. */
    static void override(ObjectNode raw, Map<String, Object> overrides) {
        if (overrides.isEmpty()) return;
        ObjectMapper m = new ObjectMapper();
        overrides.forEach((k, v) -> raw.set(k, m.valueToTree(v)));
    }

    /** As open(dir), with config.json keys overridden for this run (e.g. the ALiBi slope scale given on the command line). */
    public static Transformer open(Path dir, Map<String, Object> overrides) {
        if (GgufFile.isGguf(dir) && Files.isRegularFile(dir)) return GgufModel.open(dir, overrides);
        ModelConfig read = ModelConfig.read(dir);
        var raw = read.raw().deepCopy();
        override(raw, overrides);
        ModelConfig cfg = ModelConfig.parse(dir.resolve("config.json"), raw);
        Checkpoint ck = Checkpoint.open(dir);
        try {
            return new Transformer(ck, cfg);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return c;
    }

    /** Installs (or, with null, removes) the observer of every linear layer's input. */
    public void observe(ActivationObserver o) {
        observer = o;
    }

    /** Every linear weight (lm_head as output.weight) under its GGUF name, the name importance matrices use. */
    public Map<Weights, String> linearNames() {
        return LinearWeights.of(w);
    }

    /** The bound tensors under transformers names and layouts (for tensor-by-tensor comparison). */
    Map<String, Object> boundTensors() {
        return BoundTensors.of(c, w, interleaved);
    }

    /** Logits [n × vocab] for tokens[off, off+n). */
    public float[] forward(int[] tokens, int off, int n) {
        return forward(tokens, off, n, 1);
    }

    /** Logits [batch·n × vocab] for `batch` consecutive sequences of n tokens starting at tokens[off]. */
    public float[] forward(int[] tokens, int off, int n, int batch) {
        float[] x = hidden(tokens, off, n, batch);
        float[] out = new float[n * batch * w.lmHead().rows()];
        logits(x, 0, n * batch, out);
        return out;
    }

    /**
     * The final (normed) hidden states [batch·n × hidden] of `batch` consecutive sequences of n tokens starting at
     * tokens[off]: what lm_head turns into logits. With {@link #logits} a caller holds logits for a few rows at a
     * time instead of [batch·n × vocab].
     */
    public float[] hidden(int[] tokens, int off, int n, int batch) {
        int d = c.hidden(), rows = n * batch;
        seqLen = n;
        if (w.positions() != null && n > c.maxPositions())
            throw new IllegalArgumentException("context " + n + " exceeds the model's " + c.maxPositions() + " learned positions");
        float[] h = new float[rows * d], x = new float[rows * d], row = new float[d];
        for (int t = 0; t < rows; t++) {
            int id = tokens[off + t];
            if (id < 0 || id >= c.vocab()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + c.vocab());
            w.embed().decodeRows(id, 1, row);
            System.arraycopy(row, 0, h, t * d, d);
            if (w.positions() != null) {
                w.positions().decodeRows(t % n, 1, row);
                ops.add(h, t * d, row, 0, d);
            }
        }
        if (w.embedNorm() != null) norm(h, w.embedNorm(), w.embedNormBias(), h, rows);
        float[][] cs = rope == null ? null : rope.tables(n);
        for (int li = 0; li < w.layers().length; li++) {
            Layer l = w.layers()[li];
            norm(h, l.norm1(), l.norm1Bias(), x, rows);
            float[] attn = attention(l, li, x, n, batch, cs);
            addRows(h, matmul(l.o(), attn, rows, l.oBias(), O), rows);
            norm(h, l.norm2(), l.norm2Bias(), x, rows);
            addRows(h, matmul(l.down(), mlpHidden(l, x, rows), rows, l.downBias(), DOWN), rows);
        }
        norm(h, w.finalNorm(), w.finalNormBias(), x, rows);
        return x;
    }

    /**
     * Logits of rows [row0, row0+rows) of hidden states from the last {@link #hidden} call, into out [rows × vocab].
     * An LLM.int8 lm_head quantizes its activations per sequence, so it takes whole sequences (see {@link #logitGranule}).
     */
    public void logits(float[] hidden, int row0, int rows, float[] out) {
        int d = c.hidden();
        if (w.lmHead() instanceof Int8LtWeights && (row0 % seqLen != 0 || rows % seqLen != 0))
            throw new IllegalArgumentException("an LLM.int8 lm_head takes whole sequences of " + seqLen + " rows, not rows " + row0 + "+" + rows);
        float[] in = row0 == 0 && rows * d == hidden.length ? hidden : Arrays.copyOfRange(hidden, row0 * d, (row0 + rows) * d);
        if (observer != null) observer.observe(w.lmHead(), in, rows);
        if (w.lmHead() instanceof Int8LtWeights lt) lt.matmul(in, rows, seqLen, out, null);
        else Kernels.matmul(w.lmHead(), in, rows, out, null);
    }

    /** {@link #logits} takes rows in multiples of this: 1, or the sequence length of the last forward for an LLM.int8 lm_head. */
    public int logitGranule() {
        return w.lmHead() instanceof Int8LtWeights ? seqLen : 1;
    }

    /** Positions a sequence may have: the learned positions of GPT-2-like models, else unbounded. */
    public int positionLimit() {
        return w.positions() != null ? c.maxPositions() : Integer.MAX_VALUE;
    }

    /**
     * A KV cache for one sequence of up to `positions` tokens (prompt and generated), of {@link KvCache#bytes} bytes;
     * refused beyond a learned-position model's positions.
     */
    public KvCache newCache(int positions) {
        if (w.positions() != null && positions > c.maxPositions())
            throw new IllegalArgumentException("a KV cache of " + positions + " positions exceeds the model's " + c.maxPositions() + " learned positions");
        return new KvCache(c, positions);
    }

    /**
     * Incremental forward: tokens[b·n, (b+1)·n) are appended to caches[b] at its current length (a prompt's prefill
     * when n > 1, one decoding step when n = 1) and the logits of each sequence's last new token are returned
     * [caches.length × vocab]. The matrix multiplies see all caches.length·n rows at once; LLM.int8 finds outlier
     * columns over those rows together, as bitsandbytes does over the input of one call.
     */
    public float[] forward(int[] tokens, int n, KvCache... caches) {
        int d = c.hidden(), B = caches.length, rows = n * B;
        if (n < 1 || tokens.length < rows) throw new IllegalArgumentException(rows + " tokens expected, " + tokens.length + " given");
        seqLen = rows;
        int[] p0 = new int[B];
        for (int b = 0; b < B; b++) {
            p0[b] = caches[b].length();
            if (p0[b] + n > caches[b].capacity()) throw new IllegalStateException("KV cache full: " + p0[b] + " + " + n + " tokens exceed its " + caches[b].capacity() + " positions");
        }
        float[] h = new float[rows * d], x = new float[rows * d], row = new float[d];
        for (int t = 0; t < rows; t++) {
            int id = tokens[t];
            if (id < 0 || id >= c.vocab()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + c.vocab());
            w.embed().decodeRows(id, 1, row);
            System.arraycopy(row, 0, h, t * d, d);
            if (w.positions() != null) {
                w.positions().decodeRows(p0[t / n] + t % n, 1, row);
                ops.add(h, t * d, row, 0, d);
            }
        }
        if (w.embedNorm() != null) norm(h, w.embedNorm(), w.embedNormBias(), h, rows);
        float[][][] cs = new float[B][][];
        if (rope != null) for (int b = 0; b < B; b++) cs[b] = rope.tables(p0[b], p0[b] + n);
        for (int li = 0; li < w.layers().length; li++) {
            Layer l = w.layers()[li];
            norm(h, l.norm1(), l.norm1Bias(), x, rows);
            float[] attn = attention(l, li, x, n, caches, p0, cs);
            addRows(h, matmul(l.o(), attn, rows, l.oBias(), O), rows);
            norm(h, l.norm2(), l.norm2Bias(), x, rows);
            addRows(h, matmul(l.down(), mlpHidden(l, x, rows), rows, l.downBias(), DOWN), rows);
        }
        for (KvCache kv : caches) kv.advance(n);
        float[] last = new float[B * d], normed = new float[B * d];
        for (int b = 0; b < B; b++) System.arraycopy(h, ((b + 1) * n - 1) * d, last, b * d, d);
        norm(last, w.finalNorm(), w.finalNormBias(), normed, B);
        return matmul(w.lmHead(), normed, B, null, FRESH);
    }

    /** Self-attention of one layer for n new rows per cache: their keys and values are written into the caches first. */
    private float[] attention(Layer l, int li, float[] x, int n, KvCache[] caches, int[] p0, float[][][] cs) {
        int hd = c.headDim(), H = c.heads(), KV = c.kvHeads(), B = caches.length, rows = n * B;
        float[][] qkv = project(l, x, rows);
        float[] q = qkv[0], k = qkv[1], v = qkv[2];
        int half = rope == null ? 0 : rope.rotaryDim / 2;
        Kernels.parallel(rows, t -> {
            int b = t / n, i = t % n;
            if (rope != null) {
                for (int h = 0; h < H; h++) rotate(q, (t * H + h) * hd, half, cs[b], i * half);
                for (int h = 0; h < KV; h++) rotate(k, (t * KV + h) * hd, half, cs[b], i * half);
            }
            for (int h = 0; h < KV; h++) {
                System.arraycopy(k, (t * KV + h) * hd, caches[b].keys[li * KV + h], (p0[b] + i) * hd, hd);
                System.arraycopy(v, (t * KV + h) * hd, caches[b].values[li * KV + h], (p0[b] + i) * hd, hd);
            }
        });
        float[] out = buffer(ATTN, rows * H * hd);
        int group = H / KV;
        Kernels.parallel(B * KV, job -> {
            int b = job / KV, kvh = job % KV;
            var heads = new CausalAttention(ops, hd, caches[b].keys[li * KV + kvh], caches[b].values[li * KV + kvh], 0, hd, p0[b] + n, windows[li]);
            for (int h = kvh * group; h < (kvh + 1) * group; h++) heads.head(q, out, (b * n * H + h) * hd, H * hd, n, slope(h));
        });
        return out;
    }

    /** The MLP's inner activations: silu(gate)·up for gated models, gelu(up) otherwise. */
    private float[] mlpHidden(Layer l, float[] x, int n) {
        int f = c.ffn();
        if (l.gate() == null) {
            float[] up = matmul(l.up(), x, n, l.upBias(), UP);
            Kernels.parallel(n, t -> ops.geluTanh(up, t * f, f));
            return up;
        }
        float[][] upGate = matmuls(new Weights[] {l.up(), l.gate()}, x, n, new float[][] {l.upBias(), null}, new int[] {UP, GATE});
        float[] up = upGate[0], gate = upGate[1];
        Kernels.parallel(n, t -> ops.siluMul(gate, up, t * f, f));
        return gate;
    }

    private float[] matmul(Weights wt, float[] in, int n, float[] bias, int slot) {
        float[] out = buffer(slot, n * wt.rows());
        if (observer != null) observer.observe(wt, in, n);
        if (wt instanceof Int8LtWeights lt) lt.matmul(in, n, seqLen, out, bias); // activations quantized per sequence
        else if (n <= MatVec.MAX_TOKENS) MatVec.matmul(ops, wt, in, n, out, bias); // decoding: one pass over the weights
        else Kernels.matmul(wt, in, n, out, bias);
        return out;
    }

    /** Several weights of one input ({@link #matmul} each) in one parallel job where the kernels allow. */
    private float[][] matmuls(Weights[] ws, float[] in, int n, float[][] biases, int[] slots) {
        float[][] outs = new float[ws.length][];
        for (Weights wt : ws)
            if (wt instanceof Int8LtWeights) {
                for (int i = 0; i < ws.length; i++) outs[i] = matmul(ws[i], in, n, biases[i], slots[i]);
                return outs;
            }
        for (int i = 0; i < ws.length; i++) {
            outs[i] = buffer(slots[i], n * ws[i].rows());
            if (observer != null) observer.observe(ws[i], in, n);
        }
        if (n <= MatVec.MAX_TOKENS) MatVec.matmul(ops, ws, in, n, outs, biases);
        else Kernels.matmul(Kernels.ops(), ws, in, n, outs, biases);
        return outs;
    }

    /** A float[size] for the given slot: the slot's previous array when it has that size, else a new one. */
    private float[] buffer(int slot, int size) {
        if (slot == FRESH || observer != null) return new float[size];
        float[] a = buffers[slot];
        if (a == null || a.length != size) buffers[slot] = a = new float[size];
        return a;
    }

    /** The residual stream h += y, rows of hidden size, on the kernel threads. */
    private void addRows(float[] h, float[] y, int rows) {
        int d = c.hidden();
        Kernels.parallel(rows, t -> ops.add(h, t * d, y, t * d, d));
    }

    private void norm(float[] in, float[] weight, float[] bias, float[] out, int n) {
        int d = c.hidden();
        float eps = (float) c.eps();
        Kernels.parallel(n, t -> {
            if (w.usesLayerNorm()) ops.layerNorm(in, t * d, weight, bias, eps, out, t * d, d);
            else ops.rmsNorm(in, t * d, weight, eps, out, t * d, d);
        });
    }

    /** Self-attention of one layer over each sequence; returns [batch·n × heads·headDim] before the output projection. */
    private float[] attention(Layer l, int li, float[] x, int n, int batch, float[][] cs) {
        int hd = c.headDim(), H = c.heads(), KV = c.kvHeads(), rows = n * batch;
        float[][] qkv = project(l, x, rows);
        float[] q = qkv[0], k = qkv[1], v = qkv[2];
        if (cs != null) {
            int half = rope.rotaryDim / 2;
            Kernels.parallel(rows, t -> {
                int pos = (t % n) * half;
                for (int h = 0; h < H; h++) rotate(q, (t * H + h) * hd, half, cs, pos);
                for (int h = 0; h < KV; h++) rotate(k, (t * KV + h) * hd, half, cs, pos);
            });
        }
        float[] out = buffer(ATTN, rows * H * hd);
        int group = H / KV;
        Kernels.parallel(batch * KV, job -> {
            int t0 = (job / KV) * n, kvh = job % KV;
            var heads = new CausalAttention(ops, hd, k, v, (t0 * KV + kvh) * hd, KV * hd, n, windows[li]);
            for (int h = kvh * group; h < (kvh + 1) * group; h++) heads.head(q, out, (t0 * H + h) * hd, H * hd, n, slope(h));
        });
        return out;
    }

    /** The q, k and v projections of rows of x ([rows × heads·headDim] each; k and v [rows × kvHeads·headDim]). */
    private float[][] project(Layer l, float[] x, int rows) {
        int hd = c.headDim(), H = c.heads();
        float[] q, k, v;
        if (l.qkv() != null) {
            float[] fused = matmul(l.qkv(), x, rows, l.qkvBias(), QKV);
            q = buffer(Q, rows * H * hd);
            k = buffer(K, rows * H * hd);
            v = buffer(V, rows * H * hd);
            split(fused, rows, q, k, v);
        } else {
            float[][] qkv = matmuls(new Weights[] {l.q(), l.k(), l.v()}, x, rows, new float[][] {l.qBias(), l.kBias(), l.vBias()}, new int[] {Q, K, V});
            q = qkv[0];
            k = qkv[1];
            v = qkv[2];
        }
        return new float[][] {q, k, v};
    }

    private void rotate(float[] x, int off, int half, float[][] cs, int pos) {
        if (interleaved) ops.ropeInterleaved(x, off, half, cs[0], cs[1], pos);
        else ops.rope(x, off, half, cs[0], cs[1], pos);
    }

    /** Head h's ALiBi slope, or 0 without ALiBi. */
    private float slope(int h) {
        return slopes == null ? 0 : slopes[h];
    }

    /** Splits a fused projection: GPT-2 stores [Q | K | V]; BLOOM stores per head (q, k, v). */
    private void split(float[] fused, int n, float[] q, float[] k, float[] v) {
        int d = c.hidden(), hd = c.headDim();
        for (int t = 0; t < n; t++) {
            int f = t * 3 * d, o = t * d;
            if (c.arch() == Architecture.GPT2) {
                System.arraycopy(fused, f, q, o, d);
                System.arraycopy(fused, f + d, k, o, d);
                System.arraycopy(fused, f + 2 * d, v, o, d);
            } else {
                for (int h = 0; h < c.heads(); h++) {
                    System.arraycopy(fused, f + h * 3 * hd, q, o + h * hd, hd);
                    System.arraycopy(fused, f + h * 3 * hd + hd, k, o + h * hd, hd);
                    System.arraycopy(fused, f + h * 3 * hd + 2 * hd, v, o + h * hd, hd);
                }
            }
        }
    }

    @Override
    public void close() {
        closer.run();
    }
}
