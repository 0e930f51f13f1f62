package dev.lowbit.quantizers.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.FormatException;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.TensorSource;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter_config.json keys that the shared PEFT samples leave at their defaults (use_rslora, rank_pattern,
 * alpha_pattern, modules_to_save, the command-line weight, fan_in_fan_out read as a Linear) and the refusals, on small
 * hand-made adapters. Expected values: W + scale·B·A computed here in double with the scale written out from PEFT's
 * definition (lora_alpha / r, or lora_alpha / √r with use_rslora), not by the merge code.
 */
class LoraAdapterTest {
    @TempDir
    Path tmp;

    private final SplittableRandom rnd = new SplittableRandom(16);
    private final Map<String, float[]> values = new LinkedHashMap<>();

    private static final String BASE_CONFIG_TAIL = "\"bias\": \"none\", \"use_dora\": false, \"fan_in_fan_out\": false}";

    @Test
    void rsloraRankAndAlphaPatternsAndWeight() throws IOException {
        // q: r 2 (the default), alpha 6 from alpha_pattern; k: r 3 from rank_pattern, alpha 4 (the default); rslora; weight 0.5
        Path base = model("base", Map.of("layers.0.q.weight", new long[] {5, 7}, "layers.0.k.weight", new long[] {4, 7}));
        Path ad = adapter("ad", Map.of("layers.0.q", new int[] {2, 7, 5}, "layers.0.k", new int[] {3, 7, 4}),
                "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4, \"use_rslora\": true, \"rank_pattern\": {\"k\": 3}, "
                        + "\"alpha_pattern\": {\"layers.0.q\": 6}, " + BASE_CONFIG_TAIL);
        List<LoraAdapter> ads = List.of(LoraAdapter.read(ad, 0.5));
        try (Checkpoint ck = Checkpoint.open(base)) {
            assertMerged(ck, ads, "layers.0.q", 0.5 * 6 / Math.sqrt(2), false);
            assertMerged(ck, ads, "layers.0.k", 0.5 * 4 / Math.sqrt(3), false);
        }
    }

    @Test
    void plainScaleAndTwoAdaptersAddUp() throws IOException {
        Path base = model("base", Map.of("m.weight", new long[] {6, 3}));
        Path a1 = adapter("a1", Map.of("m", new int[] {2, 3, 6}), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 8, " + BASE_CONFIG_TAIL);
        String b1 = "base_model.model.m.lora_B.weight", a1n = "base_model.model.m.lora_A.weight";
        float[] bFirst = values.get(b1), aFirst = values.get(a1n);
        Path a2 = adapter("a2", Map.of("m", new int[] {1, 3, 6}), "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1, " + BASE_CONFIG_TAIL);
        List<LoraAdapter> ads = List.of(LoraAdapter.read(a1, 1), LoraAdapter.read(a2, -2));
        try (Checkpoint ck = Checkpoint.open(base)) {
            double[] want = new double[18];
            float[] w = values.get("m.weight");
            for (int i = 0; i < 18; i++) want[i] = w[i];
            addBA(want, bFirst, aFirst, 6, 2, 3, 8.0 / 2, false);
            addBA(want, values.get(b1), values.get(a1n), 6, 1, 3, -2 * 1.0 / 1, false);
            assertClose(want, read(MergedSource.of(ck.tensor("m.weight"), ads, false), 18));
        }
    }

    @Test
    void fanInFanOutStoredAndReadAsALinear() throws IOException {
        // GPT-2 Conv1D: the base weight is stored [in 4, out 6]; lora_A [r, in], lora_B [out, r] as for a Linear
        Path base = model("base", Map.of("h.0.c_fc.weight", new long[] {4, 6}));
        Path ad = adapter("ad", Map.of("h.0.c_fc", new int[] {2, 4, 6}), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 2, "
                + "\"bias\": \"none\", \"use_dora\": false, \"fan_in_fan_out\": true}");
        List<LoraAdapter> ads = List.of(LoraAdapter.read(ad, 1));
        try (Checkpoint ck = Checkpoint.open(base)) {
            assertMerged(ck, ads, "h.0.c_fc", 1.0, true);
            // as a Linear: [out, in], the transpose of the stored merge
            float[] stored = read(MergedSource.of(ck.tensor("h.0.c_fc.weight"), ads, false), 24);
            float[] linear = read(MergedSource.of(ck.tensor("h.0.c_fc.weight"), ads, true), 24);
            for (int o = 0; o < 6; o++)
                for (int i = 0; i < 4; i++) assertEquals(stored[i * 6 + o], linear[o * 4 + i], 0f);
        }
    }

    @Test
    void modulesToSaveReplaceTheBaseTensor() throws IOException {
        Path base = model("base", Map.of("score.weight", new long[] {2, 3}, "m.weight", new long[] {3, 3}));
        Files.createDirectories(tmp.resolve("ad"));
        float[] full = {1, 2, 3, 4, 5, 6};
        List<TensorSource> t = new ArrayList<>();
        t.add(f32("base_model.model.score.modules_to_save.default.weight", new long[] {2, 3}, full));
        t.add(f32("base_model.model.m.lora_A.weight", new long[] {1, 3}, new float[] {1, 0, 0}));
        t.add(f32("base_model.model.m.lora_B.weight", new long[] {3, 1}, new float[] {0, 0, 0}));
        SafetensorsWriter.write(tmp.resolve("ad/adapter_model.safetensors"), Map.of("format", "pt"), t);
        Files.writeString(tmp.resolve("ad/adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1, \"modules_to_save\": [\"score\"], "
                + BASE_CONFIG_TAIL);
        LoraAdapter ad = LoraAdapter.read(tmp.resolve("ad"), 1);
        assertTrue(ad.targets().contains("score.weight"), ad.targets().toString());
        try (Checkpoint ck = Checkpoint.open(base)) {
            assertArrayEquals(full, read(MergedSource.of(ck.tensor("score.weight"), List.of(ad), false), 6));
        }
        assertNull(ad.delta("score.weight"));
    }

    @Test
    void refusalsNameTheKey() throws IOException {
        Path ok = adapter("ok", Map.of("m", new int[] {1, 2, 2}), "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1, " + BASE_CONFIG_TAIL);
        String st = "adapter_model.safetensors";
        for (String[] c : new String[][] {
                {"{\"peft_type\": \"IA3\", \"r\": 1}", "peft_type 'IA3'"},
                {"{\"peft_type\": \"LORA\", \"r\": 1, \"use_dora\": true}", "use_dora"},
                {"{\"peft_type\": \"LORA\", \"r\": 1, \"lora_bias\": true}", "lora_bias"},
                {"{\"peft_type\": \"LORA\", \"r\": 1, \"layer_replication\": [[0, 1]]}", "layer_replication"},
                {"{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 1}", "rank 1 in the tensors, 2 in adapter_config.json"}}) {
            Path d = Files.createDirectories(tmp.resolve("bad" + c[1].hashCode()));
            Files.copy(ok.resolve(st), d.resolve(st));
            Files.writeString(d.resolve("adapter_config.json"), c[0]);
            FormatException e = assertThrows(FormatException.class, () -> LoraAdapter.read(d, 1));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        // a DoRA magnitude vector in the tensors is refused by name even when the config does not say use_dora
        Path d = Files.createDirectories(tmp.resolve("dora"));
        SafetensorsWriter.write(d.resolve(st), Map.of("format", "pt"), List.of(f32("base_model.model.m.lora_magnitude_vector", new long[] {2}, new float[2])));
        Files.writeString(d.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 1, " + BASE_CONFIG_TAIL);
        FormatException e = assertThrows(FormatException.class, () -> LoraAdapter.read(d, 1));
        assertTrue(e.getMessage().contains("base_model.model.m.lora_magnitude_vector") && e.getMessage().contains("DoRA"), e.getMessage());
    }

    // --- helpers ---

    private void assertMerged(Checkpoint ck, List<LoraAdapter> ads, String module, double scale, boolean fanInFanOut) {
        String w = module + ".weight";
        float[] base = values.get(w), a = values.get("base_model.model." + module + ".lora_A.weight"), b = values.get("base_model.model." + module + ".lora_B.weight");
        long[] shape = ck.tensor(w).shape();
        int out = (int) (fanInFanOut ? shape[1] : shape[0]), in = (int) (fanInFanOut ? shape[0] : shape[1]), r = a.length / in;
        double[] want = new double[base.length];
        for (int i = 0; i < base.length; i++) want[i] = base[i];
        addBA(want, b, a, out, r, in, scale, fanInFanOut);
        assertClose(want, read(MergedSource.of(ck.tensor(w), ads, false), base.length));
    }

    /** want += scale · B·A (B [out, r], A [r, in]); stored [in, out] (transposed) when fanInFanOut. */
    private static void addBA(double[] want, float[] b, float[] a, int out, int r, int in, double scale, boolean fanInFanOut) {
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < r; k++) s += (double) b[o * r + k] * a[k * in + i];
                want[fanInFanOut ? i * out + o : o * in + i] += scale * s;
            }
    }

    private static void assertClose(double[] want, float[] got) {
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6 * Math.max(1, Math.abs(want[i])), "element " + i);
    }

    private static float[] read(MergedSource s, int n) {
        float[] v = new float[n];
        // two reads that split a row, to exercise partial rows
        int half = n / 2 + 1;
        float[] x = new float[half], y = new float[n - half];
        s.read(0, x);
        s.read(half, y);
        System.arraycopy(x, 0, v, 0, half);
        System.arraycopy(y, 0, v, half, n - half);
        return v;
    }

    private Path model(String dir, Map<String, long[]> shapes) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(dir));
        List<TensorSource> t = new ArrayList<>();
        for (var e : new TreeMap<>(shapes).entrySet()) t.add(f32(e.getKey(), e.getValue(), random((int) (e.getValue()[0] * e.getValue()[1]))));
        SafetensorsWriter.write(d.resolve("model.safetensors"), Map.of("format", "pt"), t);
        return d;
    }

    /** modules: name → {r, in, out}; lora_A [r, in], lora_B [out, r], random (B non-zero, unlike a fresh PEFT init). */
    private Path adapter(String dir, Map<String, int[]> modules, String config) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(dir));
        List<TensorSource> t = new ArrayList<>();
        for (var e : new TreeMap<>(modules).entrySet()) {
            int r = e.getValue()[0], in = e.getValue()[1], out = e.getValue()[2];
            t.add(f32("base_model.model." + e.getKey() + ".lora_A.weight", new long[] {r, in}, random(r * in)));
            t.add(f32("base_model.model." + e.getKey() + ".lora_B.weight", new long[] {out, r}, random(out * r)));
        }
        SafetensorsWriter.write(d.resolve("adapter_model.safetensors"), Map.of("format", "pt"), t);
        Files.writeString(d.resolve("adapter_config.json"), config);
        return d;
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    private TensorSource f32(String name, long[] shape, float[] v) {
        values.put(name, v);
        ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(v);
        return TensorSource.of(name, DType.F32, shape, MemorySegment.ofArray(bb.array()));
    }
}
