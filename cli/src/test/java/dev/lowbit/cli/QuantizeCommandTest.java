package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.Tensor;
import dev.lowbit.samples.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QuantizeCommandTest {
    @TempDir
    Path tmp;

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    static Path model(String name) {
        if (name.equals("embedded")) return Samples.tinyLlama();
        return Samples.requireShared(name);
    }

    static Stream<Arguments> matrix() {
        String[][] schemes = {{"fp16", "lowbit"}, {"bf16", "lowbit"}, {"int8", "hf-bnb"}, {"int8", "lowbit"}, {"int8-block", "lowbit"},
                {"int4", "lowbit"}, {"int4-asym", "lowbit"}, {"nf4", "hf-bnb"}, {"nf4", "lowbit"}, {"fp4", "hf-bnb"}};
        return Stream.of("embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama")
                .flatMap(m -> Stream.of(schemes).map(s -> Arguments.of(m, s[0], s[1])));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("matrix")
    void everySchemeAndLayoutReadsBack(String name, String scheme, String layout) throws Exception {
        Path in = model(name), out = tmp.resolve("out");
        boolean fourBit = (scheme.equals("nf4") || scheme.equals("fp4")) && layout.equals("hf-bnb"); // double quant is bitsandbytes' form
        CliRun r = fourBit ? run("quantize", in.toString(), "-o", out.toString(), "--scheme", scheme, "--layout", layout, "--double-quant")
                : run("quantize", in.toString(), "-o", out.toString(), "--scheme", scheme, "--layout", layout);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("done:"), r.out());
        try (Checkpoint back = Checkpoint.open(out); Checkpoint orig = Checkpoint.open(in)) {
            for (Tensor t : orig.tensors()) {
                if (scheme.equals("fp16") || scheme.equals("bf16")) halfOf(t, back.tensor(t.name()), scheme);
                else if (t.rank() == 1) assertEquals(t, back.tensor(t.name()), "1-D tensors are kept: " + t.name());
            }
        }
        if (!scheme.equals("fp16") && !scheme.equals("bf16"))
            assertTrue(Resolution.check(in, out, scheme, fourBit, 64) >= 16, "every linear weight within its format's resolution");
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("5.18.0", cfg.get("transformers_version").asText(), "unknown keys survive");
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        if (layout.equals("hf-bnb")) assertEquals("bitsandbytes", cfg.get("quantization_config").get("quant_method").asText());
        boolean ownLayout = layout.equals("lowbit") && !scheme.equals("fp16") && !scheme.equals("bf16");
        String originalType = new ObjectMapper().readTree(in.resolve("config.json").toFile()).get("model_type").asText();
        // transformers resolves model_type first and refuses one it does not know, printing it: lowbit's own layout must
        // carry a model_type no transformers knows (its text says why), and keep the real one for lowbit.
        assertEquals(ownLayout ? dev.lowbit.formats.ModelConfig.LOWBIT_MODEL_TYPE : originalType, cfg.get("model_type").asText());
        if (ownLayout) {
            assertEquals(originalType, cfg.get("lowbit_model_type").asText());
            assertTrue(cfg.get("model_type").asText().contains("hf-bnb") && !cfg.get("model_type").asText().matches("[a-z0-9_]+"));
            assertEquals(dev.lowbit.formats.ModelConfig.read(in).arch(), dev.lowbit.formats.ModelConfig.read(out).arch());
        }
        if (scheme.equals("fp16")) assertTrue(cfg.toString().contains("\"float16\""));
    }

    /** Every value converted with round-to-nearest-even (FP16 per IEEE, BF16 on the upper 16 bits). */
    static void halfOf(Tensor orig, Tensor half, String scheme) {
        assertEquals(scheme.equals("fp16") ? DType.F16 : DType.BF16, half.dtype(), orig.name());
        for (long i = 0; i < orig.numel(); i++) {
            float x = (float) orig.getDouble(i);
            float want = scheme.equals("fp16") ? Float.float16ToFloat(Float.floatToFloat16(x))
                    : dev.lowbit.formats.FloatBits.bf16ToFloat(dev.lowbit.formats.FloatBits.floatToBf16(x));
            assertEquals(want, (float) half.getDouble(i), 0f, orig.name() + "[" + i + "]");
        }
    }

    /** The hf-bnb NF4 tensors as transformers + bitsandbytes name and shape them, decoded here by the published rule. */
    @Test
    void hfBnbNf4LayoutIsWhatBitsandbytesWrites() throws Exception {
        Path out = tmp.resolve("nf4");
        assertEquals(0, run("quantize", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", "nf4", "--double-quant", "--layout", "hf-bnb").code());
        String w = "model.layers.0.mlp.down_proj.weight";
        try (Checkpoint q = Checkpoint.open(out); Checkpoint o = Checkpoint.open(Samples.tinyLlama())) {
            Tensor orig = o.tensor(w);
            long n = orig.numel();
            Tensor packed = q.tensor(w);
            assertEquals(DType.U8, packed.dtype());
            assertArrayEquals(new long[] {n / 2, 1}, packed.shape());
            assertEquals(DType.U8, q.tensor(w + ".absmax").dtype());
            assertArrayEquals(new long[] {n / 64}, q.tensor(w + ".absmax").shape());
            assertArrayEquals(new long[] {16}, q.tensor(w + ".quant_map").shape());
            assertArrayEquals(new long[] {(n / 64 + 255) / 256}, q.tensor(w + ".nested_absmax").shape());
            assertArrayEquals(new long[] {256}, q.tensor(w + ".nested_quant_map").shape());
            Tensor stateT = q.tensor(w + ".quant_state.bitsandbytes__nf4");
            byte[] stateBytes = new byte[(int) stateT.numel()];
            for (int i = 0; i < stateBytes.length; i++) stateBytes[i] = (byte) stateT.getDouble(i);
            String state = new String(stateBytes, StandardCharsets.UTF_8);
            assertTrue(state.startsWith("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [256, 704], "
                    + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": "), state);
            double offset = new ObjectMapper().readTree(state).get("nested_offset").asDouble();
            float[] map = q.tensor(w + ".quant_map").toFloatArray(), nmap = q.tensor(w + ".nested_quant_map").toFloatArray();
            float[] nabs = q.tensor(w + ".nested_absmax").toFloatArray();
            Tensor codes = q.tensor(w + ".absmax");
            double err = 0, sig = 0;
            for (long i = 0; i < n; i++) {
                int b = (int) packed.getDouble(i / 2);
                int nib = i % 2 == 0 ? b >> 4 : b & 15;
                int blk = (int) (i / 64);
                double absmax = nmap[(int) codes.getDouble(blk)] * nabs[blk / 256] + (float) offset;
                double x = orig.getDouble(i), y = map[nib] * absmax;
                err += (x - y) * (x - y);
                sig += x * x;
            }
            assertTrue(Math.sqrt(err / sig) < 0.1, "relative error of the independent decode " + Math.sqrt(err / sig));
        }
        JsonNode qc = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertTrue(qc.get("load_in_4bit").asBoolean() && qc.get("bnb_4bit_use_double_quant").asBoolean());
        assertEquals("nf4", qc.get("bnb_4bit_quant_type").asText());
        assertTrue(qc.get("llm_int8_skip_modules").isNull(), "null lets transformers keep lm_head and tied modules in float, as it writes itself");
    }

    /**
     * Searched scales with double quantization: the nested_offset bitsandbytes adds back must be the mean of the scales
     * the codes were made with (the same search without double quant stores them as float32), not of the plain absmax,
     * and the scales decoded by bitsandbytes' rule must come back close to them. The offset of the plain absmax is ~3%
     * higher and shifted every decoded scale by that much.
     */
    @Test
    void searchedScalesWithDoubleQuantStoreTheirOwnOffset() throws Exception {
        Path plain = tmp.resolve("ss"), dq = tmp.resolve("ssdq");
        assertEquals(0, run("quantize", Samples.tinyLlama().toString(), "-o", plain.toString(), "--scheme", "nf4", "--scale-search").code());
        assertEquals(0, run("quantize", Samples.tinyLlama().toString(), "-o", dq.toString(), "--scheme", "nf4", "--scale-search", "--double-quant").code());
        String w = "model.layers.0.mlp.down_proj.weight";
        try (Checkpoint a = Checkpoint.open(plain); Checkpoint b = Checkpoint.open(dq)) {
            float[] scales = a.tensor(w + ".absmax").toFloatArray();
            double mean = 0;
            for (float v : scales) mean += v;
            mean /= scales.length;
            Tensor stateT = b.tensor(w + ".quant_state.bitsandbytes__nf4");
            byte[] stateBytes = new byte[(int) stateT.numel()];
            for (int i = 0; i < stateBytes.length; i++) stateBytes[i] = (byte) stateT.getDouble(i);
            double offset = new ObjectMapper().readTree(new String(stateBytes, StandardCharsets.UTF_8)).get("nested_offset").asDouble();
            assertEquals(mean, offset, 1e-6 * mean, "nested_offset = mean of the searched scales");
            float[] nmap = b.tensor(w + ".nested_quant_map").toFloatArray(), nabs = b.tensor(w + ".nested_absmax").toFloatArray();
            Tensor codes = b.tensor(w + ".absmax");
            // resolution of the 8-bit map: no scale is further than half the widest gap between map values (times its
            // nested absmax) from where it was; and rounding to the nearest map value leaves no bias (the plain
            // absmax's offset was a bias of 3.4% of the mean)
            float[] sorted = nmap.clone();
            Arrays.sort(sorted);
            double halfGap = 0, bias = 0;
            for (int i = 1; i < sorted.length; i++) halfGap = Math.max(halfGap, (sorted[i] - sorted[i - 1]) / 2.0);
            for (int i = 0; i < scales.length; i++) {
                double e = nmap[(int) codes.getDouble(i)] * nabs[i / 256] + (float) offset - scales[i];
                assertTrue(Math.abs(e) <= halfGap * nabs[i / 256] + 1e-6, "scale " + i + " decoded " + e + " away");
                bias += e / scales.length;
            }
            assertTrue(Math.abs(bias) < 1e-3 * mean, "mean error of the decoded scales " + bias + " (mean scale " + mean + ")");
        }
    }

    @Test
    void gpt2Conv1dIsQuantizedInLinearOrientation() throws Exception {
        Path in = model("tiny-gpt2"), out = tmp.resolve("g");
        assertEquals(0, run("quantize", in.toString(), "-o", out.toString(), "--scheme", "int8", "--layout", "hf-bnb").code());
        try (Checkpoint q = Checkpoint.open(out)) {
            assertArrayEquals(new long[] {576, 192}, q.tensor("transformer.h.0.attn.c_attn.weight").shape());
            assertArrayEquals(new long[] {576}, q.tensor("transformer.h.0.attn.c_attn.SCB").shape());
            assertArrayEquals(new long[0], q.tensor("transformer.h.0.attn.c_attn.weight_format").shape());
        }
    }

    @Test
    void dryRunWritesNothingAndBadRequestsExit2() {
        Path out = tmp.resolve("dry");
        CliRun r = run("quantize", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", "nf4", "--dry-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("kept: embedding") && r.out().contains("kept: 1-D") && r.out().contains("plan:"), r.out());
        assertFalse(Files.exists(out));
        CliRun bad = run("quantize", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", "int4", "--layout", "hf-bnb");
        assertEquals(2, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains("no hf-bnb layout"), bad.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void zstdOutputVerifiesReadsBackAndCatchesCorruption() throws Exception {
        Path plain = tmp.resolve("plain"), z = tmp.resolve("z");
        assertEquals(0, run("quantize", Samples.tinyLlama().toString(), "-o", plain.toString(), "--scheme", "int8").code());
        assertEquals(0, run("quantize", Samples.tinyLlama().toString(), "-o", z.toString(), "--scheme", "int8", "--compress", "zstd").code());
        assertTrue(Files.isRegularFile(z.resolve("model.safetensors.zst")));
        assertFalse(Files.exists(z.resolve("model.safetensors")));
        CliRun ok = run("verify", z.toString());
        assertEquals(0, ok.code(), ok.err());
        try (Checkpoint a = Checkpoint.open(plain); Checkpoint b = Checkpoint.open(z)) {
            for (Tensor t : a.tensors()) assertEquals(t, b.tensor(t.name()));
        }
        Path f = z.resolve("model.safetensors.zst");
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length / 2] ^= 1;
        Files.write(f, bytes);
        CliRun bad = run("verify", z.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("model.safetensors.zst: sha256"), bad.err());
    }

    @Test
    void existingOutputIsRefusedAndLeftAlone() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        CliRun r = run("quantize", Samples.tinyLlama().toString(), "-o", out.toString(), "--scheme", "int8");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already exists"), r.err());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temp folder left behind");
        }
    }
}
