package dev.lowbit.formats;

import dev.lowbit.formats.gguf.GgufConfig;
import dev.lowbit.formats.gguf.GgufFile;
import dev.lowbit.formats.gguf.GgufTensor;
import dev.lowbit.formats.gguf.GgufValue;
import dev.lowbit.formats.gguf.GgufValueType;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** `lowbit inspect` of one .gguf file: architecture and hyper-parameters from its metadata, the GGUF type per tensor. */
final class GgufInspection {
    private GgufInspection() {}

    static Inspection of(Path input) {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(input, arena);
            String arch = f.string("general.architecture");
            Map<String, Long> byType = new TreeMap<>();
            List<Inspection.Row> rows = new ArrayList<>();
            long params = 0, bytes = 0;
            for (GgufTensor t : f.tensors()) {
                params += t.numel();
                bytes += t.byteSize();
                byType.merge(t.typeName(), t.byteSize(), Long::sum);
                rows.add(new Inspection.Row(t.name(), t.typeName(), t.shape(), t.byteSize()));
            }
            rows.sort(Comparator.comparing(Inspection.Row::name, Inspection::naturalOrder));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("gguf.version", Integer.toString(f.version()));
            f.metadata().forEach((k, v) -> meta.put(k, describe(v)));
            return new Inspection(input.toString(), architecture(f, arch), params, bytes, byType, rows, 1, meta, hyperParameters(f, arch));
        }
    }

    /** "llama (LlamaForCausalLM)" when lowbit runs it, the GGUF name alone otherwise. */
    private static String architecture(GgufFile f, String arch) {
        if (arch == null) return "unknown (no general.architecture)";
        try {
            return arch + " (" + GgufConfig.parse(f).arch().hfClass + ")";
        } catch (FormatException e) {
            return arch + " (not runnable by lowbit: " + e.getMessage().substring(e.getMessage().indexOf(": ") + 2) + ")";
        }
    }

    /** The architecture's own keys ({arch}.*, prefix dropped), the file type and the tokenizer. */
    private static Map<String, Object> hyperParameters(GgufFile f, String arch) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (arch != null) {
            f.metadata().forEach((k, v) -> {
                if (k.startsWith(arch + ".")) out.put(k.substring(arch.length() + 1), v.type() == GgufValueType.ARRAY ? describe(v) : v.value());
            });
        }
        Long ft = f.integer("general.file_type");
        if (ft != null) out.put("file_type", ft);
        String tok = f.string("tokenizer.ggml.model");
        if (tok != null) {
            var tokens = f.value("tokenizer.ggml.tokens");
            String line = tok;
            if (tokens != null && tokens.type() == GgufValueType.ARRAY) {
                int n = tokens.asList().size();
                line += ", " + n + " tokens";
                // llama.cpp loads a file only when token_embd has a row per token (llama_model_loader's check_tensor_dims)
                long rows = f.tensors().stream().filter(t -> t.name().equals("token_embd.weight") && t.shape().length == 2).mapToLong(t -> t.shape()[0])
                        .findFirst().orElse(n);
                if (rows != n) line += " for " + rows + " rows of token_embd.weight: llama.cpp refuses this file";
            }
            out.put("tokenizer", line);
        }
        return out;
    }

    /** A metadata value as text: scalars as they are, arrays by element type and length with their first elements. */
    static String describe(GgufValue v) {
        if (v.type() != GgufValueType.ARRAY) return String.valueOf(v.value());
        List<?> l = v.asList();
        StringBuilder b = new StringBuilder("[").append(v.elementType()).append(" x ").append(l.size());
        if (!l.isEmpty()) {
            b.append(": ");
            for (int i = 0; i < Math.min(4, l.size()); i++) b.append(i == 0 ? "" : ", ").append(l.get(i));
            if (l.size() > 4) b.append(", …");
        }
        return b.append(']').toString();
    }
}
