package dev.lowbit.validate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FloatBits;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Llama-shaped model with random weights for benchmarks, streamed to disk tensor by tensor. The default shape is the
 * 82M-parameter one llama.cpp was measured on: hidden 768, 12 layers, 12 heads / 4 kv heads, ffn 2048, vocab 4096.
 */
public final class BenchFixture {
    private BenchFixture() {}

    public record Shape(int hidden, int layers, int heads, int kvHeads, int ffn, int vocab) {
        public static final Shape LLAMA_82M = new Shape(768, 12, 12, 4, 2048, 4096);
    }

    public static void write(Path dir, Shape s, DType dtype) throws IOException {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama").put("hidden_size", s.hidden()).put("num_hidden_layers", s.layers())
                .put("num_attention_heads", s.heads()).put("num_key_value_heads", s.kvHeads())
                .put("intermediate_size", s.ffn()).put("vocab_size", s.vocab()).put("rms_norm_eps", 1e-5)
                .put("max_position_embeddings", 4096).put("tie_word_embeddings", false).put("dtype", dtype.torchName());
        c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
        int d = s.hidden(), hd = d / s.heads(), kv = s.kvHeads() * hd;
        List<TensorSource> t = new ArrayList<>();
        t.add(random("model.embed_tokens.weight", dtype, 1, s.vocab(), d));
        t.add(random("lm_head.weight", dtype, 2, s.vocab(), d));
        t.add(ones("model.norm.weight", dtype, d));
        for (int i = 0; i < s.layers(); i++) {
            String l = "model.layers." + i + ".";
            long seed = 100L * (i + 1);
            t.add(ones(l + "input_layernorm.weight", dtype, d));
            t.add(ones(l + "post_attention_layernorm.weight", dtype, d));
            t.add(random(l + "self_attn.q_proj.weight", dtype, seed + 1, d, d));
            t.add(random(l + "self_attn.k_proj.weight", dtype, seed + 2, kv, d));
            t.add(random(l + "self_attn.v_proj.weight", dtype, seed + 3, kv, d));
            t.add(random(l + "self_attn.o_proj.weight", dtype, seed + 4, d, d));
            t.add(random(l + "mlp.gate_proj.weight", dtype, seed + 5, s.ffn(), d));
            t.add(random(l + "mlp.up_proj.weight", dtype, seed + 6, s.ffn(), d));
            t.add(random(l + "mlp.down_proj.weight", dtype, seed + 7, d, s.ffn()));
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), t);
        ModelConfig.write(c, dir.resolve("config.json"));
    }

    private static TensorSource ones(String name, DType dtype, int n) {
        return generated(name, dtype, new long[] {n}, () -> 1f);
    }

    /** Gaussian values with std 1/sqrt(cols), so activations stay in a sane range through the layers. */
    private static TensorSource random(String name, DType dtype, long seed, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed);
        double std = 1 / Math.sqrt(cols);
        return generated(name, dtype, new long[] {rows, cols}, () -> (float) (gaussian(r) * std));
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    interface FloatGen {
        float next();
    }

    private static TensorSource generated(String name, DType dtype, long[] shape, FloatGen gen) {
        return new TensorSource() {
            public String name() { return name; }
            public DType dtype() { return dtype; }
            public long[] shape() { return shape; }

            public void writeTo(OutputStream out) throws IOException {
                long n = byteSize() / dtype.size();
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < n; i++) {
                    float v = gen.next();
                    switch (dtype) {
                        case F32 -> buf.putFloat(v);
                        case F16 -> buf.putShort(FloatBits.floatToF16(v));
                        case BF16 -> buf.putShort(FloatBits.floatToBf16(v));
                        default -> throw new IllegalArgumentException("fixture dtype " + dtype);
                    }
                    if (!buf.hasRemaining()) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                }
                out.write(buf.array(), 0, buf.position());
            }
        };
    }
}
