package dev.lowbit.quantizers.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.DType;
import dev.lowbit.formats.SafetensorsWriter;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.TensorSource;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.samples.Samples;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BF16 weights exported to BF16 go out as stored (the mapped bytes handed to the writer, or copied where rows are
 * permuted): the file must be the one the same values give when they come as float32 and are encoded, NaNs quieted
 * as the encoder quiets them (the embedded tiny-llama is BF16; its plain export is checked against llama.cpp's file in
 * {@link GgufReferenceTest}).
 */
class AsStoredExportTest {
    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    /** A copy of the embedded sample's folder (same name: the file's general.name) with its weights replaced. */
    Path folder(String parent, List<TensorSource> weights) throws IOException {
        Path src = Samples.tinyLlama(), dir = tmp.resolve(parent).resolve(src.getFileName());
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"))
            Files.copy(src.resolve(f), dir.resolve(f));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), weights);
        return dir;
    }

    @Test
    void bf16WeightsWithNaNsExportAsTheirFloat32ValuesDo() throws IOException {
        // NaNs in a tensor taken as mapped (ffn_down: 360 KB), one copied into the block (attn_v: 32 KB) and one whose
        // rows are permuted (attn_q); a signalling NaN, a quiet one with a payload, and infinities (kept as they are).
        Map<String, int[]> nanAt = Map.of("model.layers.1.mlp.down_proj.weight", new int[] {5, 90_000},
                "model.layers.2.self_attn.v_proj.weight", new int[] {0}, "model.layers.0.self_attn.q_proj.weight", new int[] {777});
        List<TensorSource> bf16 = new ArrayList<>(), f32 = new ArrayList<>();
        try (Checkpoint c = Checkpoint.open(Samples.tinyLlama())) {
            for (Tensor t : c.tensors()) {
                assertEquals(DType.BF16, t.dtype(), t.name());
                int n = Math.toIntExact(t.numel());
                MemorySegment b = MemorySegment.ofArray(new byte[2 * n]), f = MemorySegment.ofArray(new byte[4 * n]);
                MemorySegment.copy(t.data(), 0, b, 0, 2L * n);
                for (int i : nanAt.getOrDefault(t.name(), new int[0])) {
                    b.set(LE16, 2L * i, (short) 0xff81);
                    b.set(LE16, 2L * i + 2, (short) 0x7fc3);
                    b.set(LE16, 2L * i + 4, (short) 0xff80);
                }
                for (int i = 0; i < n; i++) f.set(LE32, 4L * i, (b.get(LE16, 2L * i) & 0xffff) << 16); // bf16 widened exactly
                bf16.add(TensorSource.of(t.name(), DType.BF16, t.shape(), b));
                f32.add(TensorSource.of(t.name(), DType.F32, t.shape(), f));
            }
        }
        Path fromBf16 = tmp.resolve("a.gguf"), fromF32 = tmp.resolve("b.gguf");
        GgufExport.run(folder("bf16", bf16), fromBf16, GgufFileType.BF16, false, null);
        GgufExport.run(folder("f32", f32), fromF32, GgufFileType.BF16, false, null);
        assertArrayEquals(Files.readAllBytes(fromF32), Files.readAllBytes(fromBf16));
        try (Arena arena = Arena.ofConfined()) { // and the NaNs are quiet there: not what was stored
            MemorySegment down = GgufFile.open(fromBf16, arena).tensor("blk.1.ffn_down.weight").data();
            assertEquals((short) 0xffc1, down.get(LE16, 2L * 5));
            assertEquals((short) 0x7fc3, down.get(LE16, 2L * 6));
            assertEquals((short) 0xff80, down.get(LE16, 2L * 7));
        }
    }
}
