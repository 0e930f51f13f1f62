package dev.lowbit.quantizers.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.formats.SafetensorsFile;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.gguf.GgufValueType;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Bit-exactness against llama-quantize: every tensor of every reference GGUF of tiny-llama (made by llama.cpp from
 * model.safetensors, no importance matrix) whose type lowbit implements is re-quantized row by row from the BF16
 * source (as float32, q/k rows permuted as llama.cpp's converter does) and must equal the file's bytes.
 */
class GgmlReferenceTest {
    static final int N_HEAD = 8, N_HEAD_KV = 2; // tiny-llama config.json: num_attention_heads, num_key_value_heads

    static Path model() {
        return Samples.requireShared("tiny-llama");
    }

    @Test
    void quantizersAreBitExactToLlamaQuantize() throws IOException {
        Path dir = model();
        Path refs = dir.resolve("reference").resolve("gguf");
        List<Path> files;
        try (Stream<Path> s = Files.list(refs)) {
            files = s.filter(f -> f.toString().endsWith(".gguf")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no reference GGUF files in " + refs);
        Map<String, long[]> perType = new TreeMap<>(); // type -> {tensors, tensors equal, blocks, blocks differing}
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"), arena);
            for (Path file : files) {
                MiniGguf g = MiniGguf.open(file, arena);
                for (MiniGguf.Info t : g.tensors) {
                    WeightFormat f = WeightFormats.ggml(t.type());
                    if (f == null || t.type() <= 1 || t.type() == 30) continue; // F32/F16/BF16: not block quantizers
                    Tensor src = st.tensors().get(hfName(t.name()));
                    assertTrue(src != null, "no source for " + t.name());
                    int cols = (int) t.ne()[0], rows = (int) t.ne()[1];
                    float[] w = source(src, t.name(), rows, cols);
                    int rowBytes = (int) f.rowBytes(cols);
                    byte[] mine = new byte[rowBytes];
                    long blocks = 0, bad = 0, t0 = System.nanoTime();
                    String first = null;
                    for (int r = 0; r < rows; r++) {
                        f.quantize(w, r * cols, cols, mine, 0);
                        byte[] ref = g.data.asSlice(t.offset() + (long) r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
                        for (int b = 0; b < cols / f.blockSize(); b++) {
                            blocks++;
                            int o = b * f.blockBytes();
                            if (!Arrays.equals(mine, o, o + f.blockBytes(), ref, o, o + f.blockBytes())) {
                                bad++;
                                if (first == null) first = "row " + r + " block " + b;
                            }
                        }
                    }
                    long[] c = perType.computeIfAbsent(f.name(), k -> new long[5]);
                    c[4] += System.nanoTime() - t0;
                    c[0]++;
                    if (bad == 0) c[1]++;
                    c[2] += blocks;
                    c[3] += bad;
                    if (bad > 0) {
                        failures.add(String.format(Locale.ROOT, "%s %s %s: %d of %d blocks differ (first: %s)",
                                file.getFileName(), t.name(), f.name(), bad, blocks, first));
                    }
                }
            }
        }
        StringBuilder sb = new StringBuilder("llama-quantize bit-exactness per type (tensors equal / tensors, blocks differing / blocks):\n");
        perType.forEach((k, c) -> sb.append(String.format(Locale.ROOT, "  %-7s %3d / %3d tensors, %d / %d blocks differ (%d ms)%n",
                k, c[1], c[0], c[3], c[2], c[4] / 1_000_000)));
        failures.forEach(s -> sb.append("  ").append(s).append('\n'));
        System.out.print(sb);
        for (String type : List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K",
                "Q5_K", "Q6_K")) {
            assertTrue(perType.containsKey(type), "no reference tensor of type " + type);
        }
        assertEquals(List.of(), failures, sb.toString());
    }

    /** The HF tensor llama.cpp's converter turned into this GGUF tensor. */
    static String hfName(String gguf) {
        if (gguf.equals("token_embd.weight")) return "model.embed_tokens.weight";
        if (gguf.equals("output.weight")) return "lm_head.weight";
        Matcher m = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.weight").matcher(gguf);
        assertTrue(m.matches(), gguf);
        String part = switch (m.group(2)) {
            case "attn_q" -> "self_attn.q_proj";
            case "attn_k" -> "self_attn.k_proj";
            case "attn_v" -> "self_attn.v_proj";
            case "attn_output" -> "self_attn.o_proj";
            case "ffn_gate" -> "mlp.gate_proj";
            case "ffn_up" -> "mlp.up_proj";
            case "ffn_down" -> "mlp.down_proj";
            default -> throw new AssertionError(gguf);
        };
        return "model.layers." + m.group(1) + "." + part + ".weight";
    }

    /**
     * The source as float32 rows, q/k permuted as the converter does: reshape(n_head, 2, rows/n_head/2, cols)
     * .swapaxes(1, 2), so output row (h, i, t) is input row (h, t, i).
     */
    static float[] source(Tensor src, String name, int rows, int cols) {
        assertEquals(rows, src.dim(0), name);
        assertEquals(cols, src.dim(1), name);
        float[] w = src.toFloatArray();
        int heads = name.contains("attn_q") ? N_HEAD : name.contains("attn_k") ? N_HEAD_KV : 0;
        if (heads == 0) return w;
        float[] p = new float[w.length];
        int per = rows / heads, half = per / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int t = 0; t < 2; t++) {
                    System.arraycopy(w, (h * per + t * half + i) * cols, p, (h * per + 2 * i + t) * cols, cols);
                }
            }
        }
        return p;
    }

    /**
     * TEMPORARY: a minimal reader of a GGUF header and tensor-info table, until dev.lowbit.formats.gguf.GgufFile
     * lands on main; then this test switches to it.
     */
    record MiniGguf(List<Info> tensors, MemorySegment data) {
        record Info(String name, long[] ne, int type, long offset) {}

        static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        static MiniGguf open(Path file, Arena arena) throws IOException {
            MemorySegment s;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                s = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            long[] pos = {0};
            assertEquals(0x46554747, s.get(I32, 0), "GGUF magic");
            pos[0] = 8;
            long nTensors = s.get(I64, pos[0]);
            long nKv = s.get(I64, pos[0] + 8);
            pos[0] += 16;
            long alignment = 32;
            for (long k = 0; k < nKv; k++) {
                String key = string(s, pos);
                int type = s.get(I32, pos[0]);
                pos[0] += 4;
                if (key.equals("general.alignment")) alignment = s.get(I32, pos[0]) & 0xffffffffL;
                skip(s, pos, type);
            }
            List<Info> infos = new ArrayList<>();
            for (long t = 0; t < nTensors; t++) {
                String name = string(s, pos);
                int nDims = s.get(I32, pos[0]);
                pos[0] += 4;
                long[] ne = new long[nDims];
                for (int d = 0; d < nDims; d++, pos[0] += 8) ne[d] = s.get(I64, pos[0]);
                int type = s.get(I32, pos[0]);
                long off = s.get(I64, pos[0] + 4);
                pos[0] += 12;
                infos.add(new Info(name, ne, type, off));
            }
            long start = (pos[0] + alignment - 1) / alignment * alignment;
            return new MiniGguf(infos, s.asSlice(start));
        }

        static String string(MemorySegment s, long[] pos) {
            long n = s.get(I64, pos[0]);
            byte[] b = s.asSlice(pos[0] + 8, n).toArray(ValueLayout.JAVA_BYTE);
            pos[0] += 8 + n;
            return new String(b, StandardCharsets.UTF_8);
        }

        static void skip(MemorySegment s, long[] pos, int type) {
            GgufValueType t = GgufValueType.of(type);
            switch (t) {
                case STRING -> string(s, pos);
                case ARRAY -> {
                    int et = s.get(I32, pos[0]);
                    long n = s.get(I64, pos[0] + 4);
                    pos[0] += 12;
                    GgufValueType e = GgufValueType.of(et);
                    if (e.size > 0) pos[0] += n * e.size;
                    else for (long i = 0; i < n; i++) skip(s, pos, et);
                }
                default -> pos[0] += t.size;
            }
        }
    }
}
