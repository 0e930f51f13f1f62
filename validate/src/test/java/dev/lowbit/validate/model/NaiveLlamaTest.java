package dev.lowbit.validate.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.TensorSource;
import dev.lowbit.quantizers.Rewriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine against a naive Llama written here from the definitions in SPECS.md (double precision, one token and one
 * head at a time, no tiling, no vector code), on random tiny models whose configs exercise what the reference samples
 * do not: head_dim ≠ hidden/heads, tied embeddings (no lm_head tensor), partial rotary, the transformers 4.x config
 * form (rope_theta + rope_scaling with "type", torch_dtype), and the dynamic and llama3 scalings written by rewrite.
 * RoPE frequencies are computed here from the formulas, independently of RopeTables.
 */
class NaiveLlamaTest {
    @TempDir
    Path tmp;

    static final ObjectMapper JSON = new ObjectMapper();

    /** A random tiny Llama: F32 weights, config from the given edits. */
    record Model(int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab, int layers, boolean tied, Map<String, float[]> w) {}

    static Model random(int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab, int layers, boolean tied, long seed) {
        Random r = new Random(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        java.util.function.BiFunction<Integer, Double, float[]> gauss = (n, s) -> {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * s);
            return a;
        };
        java.util.function.Function<Integer, float[]> norm = n -> {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) (1 + 0.1 * r.nextGaussian());
            return a;
        };
        w.put("model.embed_tokens.weight", gauss.apply(vocab * hidden, 1.0));
        if (!tied) w.put("lm_head.weight", gauss.apply(vocab * hidden, 0.2));
        w.put("model.norm.weight", norm.apply(hidden));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", norm.apply(hidden));
            w.put(p + "post_attention_layernorm.weight", norm.apply(hidden));
            w.put(p + "self_attn.q_proj.weight", gauss.apply(heads * headDim * hidden, 0.4));
            w.put(p + "self_attn.k_proj.weight", gauss.apply(kvHeads * headDim * hidden, 0.4));
            w.put(p + "self_attn.v_proj.weight", gauss.apply(kvHeads * headDim * hidden, 0.3));
            w.put(p + "self_attn.o_proj.weight", gauss.apply(hidden * heads * headDim, 0.2));
            w.put(p + "mlp.gate_proj.weight", gauss.apply(ffn * hidden, 0.3));
            w.put(p + "mlp.up_proj.weight", gauss.apply(ffn * hidden, 0.3));
            w.put(p + "mlp.down_proj.weight", gauss.apply(hidden * ffn, 0.2));
        }
        return new Model(hidden, heads, kvHeads, headDim, ffn, vocab, layers, tied, w);
    }

    static long[] shape(Model m, String name) {
        if (name.endsWith("norm.weight")) return new long[] {m.hidden};
        int n = m.w.get(name).length;
        int in = name.contains("o_proj") ? m.heads * m.headDim : name.contains("down_proj") ? m.ffn : m.hidden;
        return new long[] {n / in, in};
    }

    /** Writes the model with config.json = a 5.x Llama config, then `edit` applied to it. */
    static Path write(Path dir, Model m, Consumer<ObjectNode> edit) throws IOException {
        Files.createDirectories(dir);
        List<TensorSource> t = new ArrayList<>();
        for (var e : m.w.entrySet()) {
            float[] v = e.getValue();
            long[] shape = shape(m, e.getKey());
            t.add(new TensorSource() {
                public String name() { return e.getKey(); }
                public DType dtype() { return DType.F32; }
                public long[] shape() { return shape; }
                public void writeTo(OutputStream out) throws IOException {
                    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                    for (float x : v) b.putFloat(x);
                    out.write(b.array());
                }
            });
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), t);
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama").put("hidden_size", m.hidden).put("num_hidden_layers", m.layers)
                .put("num_attention_heads", m.heads).put("num_key_value_heads", m.kvHeads).put("head_dim", m.headDim)
                .put("intermediate_size", m.ffn).put("vocab_size", m.vocab).put("rms_norm_eps", 1e-5)
                .put("max_position_embeddings", 64).put("tie_word_embeddings", m.tied).put("dtype", "float32");
        c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
        edit.accept(c);
        ModelConfig.write(c, dir.resolve("config.json"));
        return dir;
    }

    // ---- RoPE frequencies from SPECS.md, in double ----

    static double[] base(double theta, int dim) {
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1 / Math.pow(theta, 2.0 * i / dim);
        return inv;
    }

    static double[] linear(double theta, int dim, double factor) {
        double[] inv = base(theta, dim);
        for (int i = 0; i < inv.length; i++) inv[i] /= factor;
        return inv;
    }

    /** dynamic NTK: base' = base·(factor·seq/max − (factor − 1))^(dim/(dim−2)) for seq = max(seq_len, max_pos). */
    static double[] dynamic(double theta, int dim, double factor, int seqLen, int maxPos) {
        double seq = Math.max(seqLen, maxPos);
        return base(theta * Math.pow(factor * seq / maxPos - (factor - 1), dim / (dim - 2.0)), dim);
    }

    /** llama3: by wavelength λ = 2π/inv, against L_orig/low and L_orig/high. */
    static double[] llama3(double theta, int dim, double factor, double low, double high, int orig) {
        double[] inv = base(theta, dim);
        for (int i = 0; i < inv.length; i++) {
            double wave = 2 * Math.PI / inv[i];
            if (wave > orig / low) inv[i] = inv[i] / factor;
            else if (wave >= orig / high) {
                double s = (orig / wave - low) / (high - low);
                inv[i] = (1 - s) * inv[i] / factor + s * inv[i];
            }
        }
        return inv;
    }

    // ---- the naive forward ----

    static double[] rmsNorm(double[] x, float[] w, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * r * w[i];
        return y;
    }

    /** y = W x for W [rows × cols] row-major. */
    static double[] mv(float[] w, double[] x, int rows) {
        int cols = x.length;
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) s += (double) w[r * cols + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    /** Half-split rotation of the first rotaryDim elements of one head (the rest pass through), cos/sin × attentionFactor. */
    static void rope(double[] x, int off, int rotaryDim, double[] inv, int pos, double attentionFactor) {
        int half = rotaryDim / 2;
        for (int i = 0; i < half; i++) {
            double a = pos * inv[i], c = Math.cos(a) * attentionFactor, s = Math.sin(a) * attentionFactor;
            double x1 = x[off + i], x2 = x[off + i + half];
            x[off + i] = x1 * c - x2 * s;
            x[off + i + half] = x2 * c + x1 * s;
        }
    }

    static double[][] forward(Model m, int[] ids, double[] inv, int rotaryDim, double attentionFactor) {
        return forward(m, ids, inv, rotaryDim, attentionFactor, 0);
    }

    /** window > 0: query t attends to keys t − window + 1 .. t only (transformers' sliding_window_overlay: j > t − window). */
    static double[][] forward(Model m, int[] ids, double[] inv, int rotaryDim, double attentionFactor, int window) {
        int n = ids.length, d = m.hidden, hd = m.headDim, H = m.heads, KV = m.kvHeads;
        double[][] h = new double[n][d];
        float[] emb = m.w.get("model.embed_tokens.weight");
        for (int t = 0; t < n; t++) for (int i = 0; i < d; i++) h[t][i] = emb[ids[t] * d + i];
        for (int l = 0; l < m.layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] x = rmsNorm(h[t], m.w.get(p + "input_layernorm.weight"), 1e-5);
                q[t] = mv(m.w.get(p + "self_attn.q_proj.weight"), x, H * hd);
                k[t] = mv(m.w.get(p + "self_attn.k_proj.weight"), x, KV * hd);
                v[t] = mv(m.w.get(p + "self_attn.v_proj.weight"), x, KV * hd);
                for (int hh = 0; hh < H; hh++) rope(q[t], hh * hd, rotaryDim, inv, t, attentionFactor);
                for (int hh = 0; hh < KV; hh++) rope(k[t], hh * hd, rotaryDim, inv, t, attentionFactor);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[H * hd];
                for (int hh = 0; hh < H; hh++) {
                    int kv = hh / (H / KV);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    int lo = window > 0 ? Math.max(0, t - window + 1) : 0;
                    for (int j = lo; j <= t; j++) {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) dot += q[t][hh * hd + e] * k[j][kv * hd + e];
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = lo; j <= t; j++) z += s[j] = Math.exp(s[j] - max);
                    for (int j = lo; j <= t; j++)
                        for (int e = 0; e < hd; e++) att[hh * hd + e] += s[j] / z * v[j][kv * hd + e];
                }
                double[] o = mv(m.w.get(p + "self_attn.o_proj.weight"), att, d);
                for (int i = 0; i < d; i++) h[t][i] += o[i];
                double[] x = rmsNorm(h[t], m.w.get(p + "post_attention_layernorm.weight"), 1e-5);
                double[] g = mv(m.w.get(p + "mlp.gate_proj.weight"), x, m.ffn), u = mv(m.w.get(p + "mlp.up_proj.weight"), x, m.ffn);
                for (int i = 0; i < m.ffn; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                double[] down = mv(m.w.get(p + "mlp.down_proj.weight"), g, d);
                for (int i = 0; i < d; i++) h[t][i] += down[i];
            }
        }
        float[] head = m.tied ? emb : m.w.get("lm_head.weight");
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) logits[t] = mv(head, rmsNorm(h[t], m.w.get("model.norm.weight"), 1e-5), m.vocab);
        return logits;
    }

    static int[] tokens(int n, int vocab, long seed) {
        return new Random(seed).ints(n, 0, vocab).toArray();
    }

    /** Engine logits against the naive ones: max |Δ| within 2e-4 of the logits' scale (float32 against double). */
    static void assertLogits(Path dir, Model m, int[] ids, double[] inv, int rotaryDim, double af) {
        assertLogits(dir, m, ids, forward(m, ids, inv, rotaryDim, af));
    }

    static void assertLogits(Path dir, Model m, int[] ids, double[][] want) {
        try (Transformer t = Transformer.open(dir)) {
            float[] got = t.forward(ids, 0, ids.length);
            double max = 0, scale = 0;
            for (int i = 0; i < ids.length; i++)
                for (int v = 0; v < m.vocab; v++) {
                    max = Math.max(max, Math.abs(want[i][v] - got[i * m.vocab + v]));
                    scale = Math.max(scale, Math.abs(want[i][v]));
                }
            assertTrue(max <= 2e-4 * scale, "max |Δlogit| " + max + " at scale " + scale);
        }
    }

    static void assertInvFreq(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-6 * want[i], what + " inv_freq[" + i + "]");
    }

    /** The naive forward itself is sensitive to what the tests vary: a wrong frequency or head_dim changes the logits. */
    @Test
    void theNaiveReferenceSeesTheDifferences() {
        Model m = random(48, 4, 2, 16, 40, 97, 1, false, 1);
        int[] ids = tokens(24, m.vocab, 2);
        double[][] a = forward(m, ids, base(10000, 16), 16, 1), b = forward(m, ids, linear(10000, 16, 2), 16, 1), c = forward(m, ids, base(10000, 8), 8, 1);
        double dab = 0, dac = 0;
        for (int i = 0; i < ids.length; i++)
            for (int v = 0; v < m.vocab; v++) {
                dab = Math.max(dab, Math.abs(a[i][v] - b[i][v]));
                dac = Math.max(dac, Math.abs(a[i][v] - c[i][v]));
            }
        assertTrue(dab > 1e-2 && dac > 1e-2, dab + " " + dac);
    }

    /** head_dim 16 with hidden 48 and 4 heads (48/4 = 12): q/k/v are 64 wide, o_proj [48 × 64]; GQA 4 → 2. */
    @Test
    void headDimDifferentFromHiddenOverHeads() throws IOException {
        Model m = random(48, 4, 2, 16, 40, 97, 2, false, 3);
        Path dir = write(tmp.resolve("hd"), m, c -> {});
        assertEquals(16, ModelConfig.read(dir).headDim());
        assertLogits(dir, m, tokens(24, m.vocab, 4), base(10000, 16), 16, 1);
    }

    /**
     * Mistral's sliding_window: each query sees itself and the window − 1 keys before it, on every layer; 70 tokens
     * with a window of 5 run the prompt path over two query tiles (60 rows each) and a window larger than the sequence
     * changes nothing. Qwen2 applies its window only with use_sliding_window, on the layers from max_window_layers on.
     */
    @Test
    void slidingWindow() throws IOException {
        Model m = random(48, 4, 2, 12, 40, 97, 2, false, 21);
        int[] ids = tokens(70, m.vocab, 22);
        Path mistral = write(tmp.resolve("swa"), m, c -> mistral(c).put("sliding_window", 5));
        assertEquals(5, ModelConfig.read(mistral).slidingWindow(1));
        double[][] windowed = forward(m, ids, base(10000, 12), 12, 1, 5), full = forward(m, ids, base(10000, 12), 12, 1);
        assertTrue(Math.abs(windowed[69][3] - full[69][3]) > 1e-3, "the window changes the naive logits");
        assertLogits(mistral, m, ids, windowed);
        assertLogits(write(tmp.resolve("swa-wide"), m, c -> mistral(c).put("sliding_window", 70)), m, ids, full);
        assertLogits(write(tmp.resolve("swa-null"), m, c -> mistral(c).putNull("sliding_window")), m, ids, full);
        ModelConfig off = ModelConfig.read(write(tmp.resolve("qwen-off"), m, c -> qwen2(c).put("sliding_window", 5).put("use_sliding_window", false)));
        assertEquals(List.of(0, 0), List.of(off.slidingWindow(0), off.slidingWindow(1)), "Qwen2Config: no window without use_sliding_window");
        ModelConfig q = ModelConfig.read(write(tmp.resolve("qwen-on"), m, c -> qwen2(c).put("sliding_window", 5).put("use_sliding_window", true)
                .put("max_window_layers", 1)));
        assertEquals(List.of(0, 5), List.of(q.slidingWindow(0), q.slidingWindow(1)), "Qwen2Config: sliding from max_window_layers on");
        ModelConfig typed = ModelConfig.read(write(tmp.resolve("qwen-types"), m, c -> {
            qwen2(c).put("sliding_window", 5).put("use_sliding_window", true);
            c.putArray("layer_types").add("sliding_attention").add("full_attention");
        }));
        assertEquals(List.of(5, 0), List.of(typed.slidingWindow(0), typed.slidingWindow(1)), "layer_types as config.json lists them");
        assertEquals(0, ModelConfig.read(write(tmp.resolve("llama-sw"), m, c -> c.put("sliding_window", 5))).slidingWindow(0), "Llama has none");
    }

    private static ObjectNode mistral(ObjectNode c) {
        c.putArray("architectures").add("MistralForCausalLM");
        return c.put("model_type", "mistral");
    }

    private static ObjectNode qwen2(ObjectNode c) {
        c.putArray("architectures").add("Qwen2ForCausalLM");
        return c.put("model_type", "qwen2");
    }

    /** tie_word_embeddings: no lm_head tensor, the logits use the input embedding. */
    @Test
    void llamaWithTiedEmbeddings() throws IOException {
        Model m = random(32, 4, 4, 8, 48, 61, 2, true, 5);
        Path dir = write(tmp.resolve("tied"), m, c -> {});
        assertLogits(dir, m, tokens(20, m.vocab, 6), base(10000, 8), 8, 1);
    }

    /** partial_rotary_factor 0.5: only the first 8 of 16 dims of each head rotate (half-split within them), the rest pass. */
    @Test
    void partialRotary() throws IOException {
        Model m = random(48, 4, 2, 16, 40, 97, 2, false, 7);
        Path dir = write(tmp.resolve("partial"), m, c -> ((ObjectNode) c.get("rope_parameters")).put("partial_rotary_factor", 0.5));
        try (Transformer t = Transformer.open(dir)) {
            RopeTables rt = new RopeTables(t.config());
            assertEquals(8, rt.rotaryDim);
            assertInvFreq(base(10000, 8), rt.invFreq(24), "partial");
        }
        assertLogits(dir, m, tokens(24, m.vocab, 8), base(10000, 8), 8, 1);
    }

    /** transformers 4.x: top-level rope_theta, rope_scaling {"type": "linear"}, torch_dtype; no rope_parameters. */
    @Test
    void transformers4ConfigForm() throws IOException {
        Model m = random(48, 4, 2, 12, 40, 97, 2, false, 9);
        Path dir = write(tmp.resolve("v4"), m, c -> {
            c.remove("rope_parameters");
            c.remove("dtype");
            c.remove("head_dim");
            c.put("torch_dtype", "float32").put("rope_theta", 500.0);
            c.putObject("rope_scaling").put("type", "linear").put("factor", 3.0);
        });
        ModelConfig cfg = ModelConfig.read(dir);
        assertEquals("float32", cfg.savedDtype());
        assertEquals(12, cfg.headDim(), "head_dim absent: hidden / heads");
        assertEquals(500.0, cfg.rope().theta());
        assertEquals("linear", cfg.rope().type());
        assertInvFreq(linear(500, 12, 3), new RopeTables(cfg).invFreq(24), "4.x linear");
        assertLogits(dir, m, tokens(24, m.vocab, 10), linear(500, 12, 3), 12, 1);
    }

    /** `rewrite --rope-scaling dynamic --factor 4` on a model with 16 positions, run at 24 (> 16, so the base grows). */
    @Test
    void dynamicScalingWrittenByRewrite() throws IOException {
        Model m = random(48, 4, 2, 16, 40, 97, 2, false, 11);
        Path in = write(tmp.resolve("dyn-in"), m, c -> c.put("max_position_embeddings", 16)), out = tmp.resolve("dyn");
        Rewriter.run(in, out, new Rewriter.Options(null, "dynamic", 4, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null));
        var cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("dynamic", cfg.get("rope_parameters").get("rope_type").asText());
        assertEquals("dynamic", cfg.get("rope_scaling").get("rope_type").asText());
        RopeTables rt = new RopeTables(ModelConfig.read(out));
        assertInvFreq(base(10000, 16), rt.invFreq(16), "dynamic at seq ≤ max: unchanged");
        assertInvFreq(dynamic(10000, 16, 4, 24, 16), rt.invFreq(24), "dynamic at 24");
        assertInvFreq(dynamic(10000, 16, 4, 40, 16), rt.invFreq(40), "dynamic at 40");
        assertLogits(out, m, tokens(24, m.vocab, 12), dynamic(10000, 16, 4, 24, 16), 16, 1);
    }

    /**
     * `rewrite --rope-scaling llama3 --factor 8 --original-max-position 64` (low 1, high 4 by default): with head_dim 16
     * and θ 10000 the wavelengths run from 2π to ~19,000, so all three branches (< 16 kept, 16..64 blended, > 64 divided) occur.
     */
    @Test
    void llama3ScalingWrittenByRewrite() throws IOException {
        Model m = random(48, 4, 2, 16, 40, 97, 2, false, 13);
        Path in = write(tmp.resolve("l3-in"), m, c -> {}), out = tmp.resolve("l3");
        Rewriter.run(in, out, new Rewriter.Options(null, "llama3", 8, 64, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null));
        var p = JSON.readTree(out.resolve("config.json").toFile()).get("rope_parameters");
        assertEquals(1.0, p.get("low_freq_factor").asDouble());
        assertEquals(4.0, p.get("high_freq_factor").asDouble());
        assertEquals(64, p.get("original_max_position_embeddings").asInt());
        double[] want = llama3(10000, 16, 8, 1, 4, 64), plain = base(10000, 16);
        int kept = 0, blended = 0, divided = 0;
        for (int i = 0; i < want.length; i++) {
            double wave = 2 * Math.PI / plain[i];
            if (wave < 16) kept++;
            else if (wave > 64) divided++;
            else blended++;
        }
        assertTrue(kept > 0 && blended > 0 && divided > 0, kept + " " + blended + " " + divided);
        assertInvFreq(want, new RopeTables(ModelConfig.read(out)).invFreq(24), "llama3");
        assertLogits(out, m, tokens(24, m.vocab, 14), want, 16, 1);
        Path out2 = tmp.resolve("l3b");
        Rewriter.run(in, out2, new Rewriter.Options(null, "llama3", 4, 32, 2, 8, Double.NaN, Double.NaN, null));
        assertInvFreq(llama3(10000, 16, 4, 2, 8, 32), new RopeTables(ModelConfig.read(out2)).invFreq(24), "llama3 low 2 high 8");
    }

    /** linear through rewrite, as a control on the same path. */
    @Test
    void linearScalingWrittenByRewrite() throws IOException {
        Model m = random(48, 4, 2, 16, 40, 97, 1, false, 15);
        Path in = write(tmp.resolve("lin-in"), m, c -> {}), out = tmp.resolve("lin");
        Rewriter.run(in, out, new Rewriter.Options(null, "linear", 2.5, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null));
        assertInvFreq(linear(10000, 16, 2.5), new RopeTables(ModelConfig.read(out)).invFreq(24), "linear");
        assertLogits(out, m, tokens(24, m.vocab, 16), linear(10000, 16, 2.5), 16, 1);
    }
}
