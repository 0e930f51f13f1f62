package dev.lowbit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lowbit.formats.Architecture;
import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Inspection;
import dev.lowbit.formats.JsonTree;
import dev.lowbit.formats.ModelConfig;
import dev.lowbit.formats.Tensor;
import dev.lowbit.formats.gguf.GgufFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = {"  lowbit inspect samples/tiny-llama", "  lowbit inspect MODEL-nf4 --parts", "  lowbit inspect OUT --json | jq .weights[0]"},
        name = "inspect", description = "Show a model's configuration (layers, heads, context, vocabulary, RoPE/ALiBi), parameter count, bytes per dtype, "
                + "and each weight with its format (dtype, or nf4/fp4 block and double quant, int8 rows, int4 groups...). Reads headers and config.json only.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "A model folder, a .safetensors file, a model.safetensors.index.json or a .gguf file.")
    Path model;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Option(names = "--parts", description = "List the stored tensors (packed data, absmax, quant_map, quant_state...) instead of one row per weight.")
    boolean parts;

    @Spec
    CommandSpec spec;

    /** One logical weight: its stored parts summed, and how it is stored. */
    record Weight(String name, String format, long[] shape, long bytes, List<String> parts) {}

    @Override
    public Integer call() throws Exception {
        Inspection r = Inspection.of(model);
        List<Weight> weights = weights(model, r);
        Map<String, Object> config = config(model);
        var out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("path", r.path());
            doc.put("architecture", r.architecture());
            doc.put("config", r.hyperParameters().isEmpty() ? config : r.hyperParameters()); // GGUF: its metadata hyper-parameters
            doc.put("parameters", r.parameters());
            doc.put("bytes", r.bytes());
            doc.put("bytes_by_dtype", r.bytesByDtype());
            doc.put("files", r.files());
            doc.put("weights", weights);
            doc.put("tensors", r.tensors());
            doc.put("metadata", r.metadata());
            out.println(Json.pretty(doc));
            return 0;
        }
        out.printf("model         %s%n", r.path());
        out.printf("architecture  %s%n", r.architecture());
        if (!r.hyperParameters().isEmpty()) r.hyperParameters().forEach((k, v) -> out.printf("  %-22s %s%n", k, v));
        else config.forEach((k, v) -> out.printf("  %-22s %s%n", k.replace('_', ' '), v));
        out.printf("parameters    %,d (%s)%n", r.parameters(), Units.count(r.parameters()));
        out.printf(Locale.ROOT, "files         %d, %s of tensor data (%.2f bits per parameter)%n", r.files(), Units.bytes(r.bytes()),
                8.0 * r.bytes() / Math.max(1, r.parameters()));
        r.bytesByDtype().forEach((d, b) -> out.printf("  %-6s      %s%n", d, Units.bytes(b)));
        if (parts) {
            int w = Math.max(6, r.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(6));
            out.printf("%n%-" + w + "s  %-7s  %-16s  %s%n", "tensor", "dtype", "shape", "bytes");
            for (Inspection.Row t : r.tensors())
                out.printf("%-" + w + "s  %-7s  %-16s  %,d%n", t.name(), t.dtype(), Arrays.toString(t.shape()), t.bytes());
            return 0;
        }
        int w = Math.max(6, weights.stream().mapToInt(t -> t.name().length()).max().orElse(6));
        int wf = Math.max(6, weights.stream().mapToInt(t -> t.format().length()).max().orElse(6));
        int ws = Math.max(5, weights.stream().mapToInt(t -> Arrays.toString(t.shape()).length()).max().orElse(5));
        out.printf("%n%-" + w + "s  %-" + wf + "s  %-" + ws + "s  %12s%n", "weight", "format", "shape", "bytes");
        for (Weight t : weights)
            out.printf("%-" + w + "s  %-" + wf + "s  %-" + ws + "s  %,12d%n", t.name(), t.format(), Arrays.toString(t.shape()), t.bytes());
        if (weights.size() < r.tensors().size()) out.printf("(%d stored tensors; --parts lists them)%n", r.tensors().size());
        return 0;
    }

    /** Stored tensors grouped under the weight they belong to, with the format read from quant_state or lowbit metadata. */
    static List<Weight> weights(Path model, Inspection r) throws Exception {
        if (GgufFile.isGguf(model)) // GGUF: one stored tensor per weight, its type is its format
            return r.tensors().stream().map(t -> new Weight(t.name(), t.dtype(), t.shape(), t.bytes(), List.of(t.name()))).toList();
        Map<String, String> formats = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(model)) {
            for (var e : ck.metadata().entrySet()) {
                if (!e.getKey().startsWith("lowbit:")) continue;
                JsonNode d = JsonTree.read(e.getValue());
                String scheme = d.path("scheme").asText("?");
                String f = scheme + (d.has("block") ? (scheme.startsWith("int4") ? ", group " : ", block ") + d.get("block").asInt() : "")
                        + (d.path("double_quant").asBoolean(false) ? ", double quant" : "") + " (lowbit)";
                formats.put(e.getKey().substring(7), f);
                shapes.put(e.getKey().substring(7), shape(d.get("shape")));
            }
            for (Tensor t : ck.tensors()) {
                int i = t.name().indexOf(".quant_state.bitsandbytes__");
                if (i >= 0) {
                    JsonNode d = JsonTree.read(t.data().toArray(ValueLayout.JAVA_BYTE));
                    String f = d.path("quant_type").asText("?") + ", block " + d.path("blocksize").asInt() + (d.has("nested_blocksize") ? ", double quant" : "")
                            + ", compute " + d.path("dtype").asText("?") + " (bitsandbytes)";
                    formats.put(t.name().substring(0, i), f);
                    shapes.put(t.name().substring(0, i), shape(d.get("shape")));
                } else if (t.name().endsWith(".SCB")) {
                    String w = t.name().substring(0, t.name().length() - 4) + ".weight";
                    formats.put(w, "int8, per-row scale (bitsandbytes LLM.int8)");
                }
            }
        }
        Map<String, List<Inspection.Row>> groups = new LinkedHashMap<>();
        for (Inspection.Row t : r.tensors()) groups.computeIfAbsent(owner(t.name(), formats.keySet()), k -> new ArrayList<>()).add(t);
        List<Weight> out = new ArrayList<>();
        for (var g : groups.entrySet()) {
            String name = g.getKey();
            Inspection.Row main = g.getValue().stream().filter(t -> t.name().equals(name)).findFirst().orElse(g.getValue().get(0));
            long bytes = g.getValue().stream().mapToLong(Inspection.Row::bytes).sum();
            String format = formats.getOrDefault(name, main.dtype());
            out.add(new Weight(name, format, shapes.getOrDefault(name, main.shape()), bytes, g.getValue().stream().map(Inspection.Row::name).toList()));
        }
        return out;
    }

    /** The quantized weight a stored tensor is part of (W, W.absmax, W.quant_map, W.SCB's sibling...), or itself. */
    static String owner(String name, Set<String> quantized) {
        if (name.endsWith(".SCB") && quantized.contains(name.substring(0, name.length() - 4) + ".weight")) return name.substring(0, name.length() - 4) + ".weight";
        if (name.endsWith(".weight_format") && quantized.contains(name.substring(0, name.length() - 14) + ".weight"))
            return name.substring(0, name.length() - 14) + ".weight";
        for (int i = name.length(); i > 0; i = name.lastIndexOf('.', i - 1)) {
            if (quantized.contains(name.substring(0, i))) return name.substring(0, i);
            if (i == 0) break;
        }
        return name;
    }

    static long[] shape(JsonNode n) {
        if (n == null) return new long[0];
        long[] s = new long[n.size()];
        for (int i = 0; i < s.length; i++) s[i] = n.get(i).asLong();
        return s;
    }

    /** Layers, heads, context length, vocabulary, positional encoding: what a user checks first. */
    static Map<String, Object> config(Path model) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        Map<String, Object> m = new LinkedHashMap<>();
        if (dir == null || !Files.isRegularFile(dir.resolve("config.json"))) return m;
        ModelConfig c = ModelConfig.read(dir);
        m.put("layers", c.layers());
        m.put("hidden_size", c.hidden());
        m.put("attention_heads", c.heads() + (c.kvHeads() != c.heads() ? " (" + c.kvHeads() + " key/value heads, GQA)" : "") + ", head dim " + c.headDim());
        m.put("ffn_size", c.ffn());
        m.put("vocab_size", c.vocab());
        m.put("context_length", c.maxPositions() > 0 ? Integer.toString(c.maxPositions()) : "unbounded (ALiBi)");
        if (c.arch() == Architecture.BLOOM) {
            JsonNode s = c.raw().get("lowbit_alibi_slope_scale");
            m.put("positions", "ALiBi" + (s != null ? ", slopes x " + s.asText() + " (lowbit_alibi_slope_scale)" : ""));
        } else if (c.arch().usesRope()) {
            var r = c.rope();
            StringBuilder s = new StringBuilder("RoPE theta ").append(Units.plain(r.theta()));
            if (!r.type().equals("default")) {
                s.append(", ").append(r.type()).append(" x").append(Units.plain(r.factor()));
                if (r.originalMaxPositions() > 0) s.append(" from ").append(r.originalMaxPositions());
            }
            if (r.partialRotaryFactor() != 1.0) s.append(", partial rotary ").append(Units.plain(r.partialRotaryFactor()));
            s.append(", ").append(c.raw().path("lowbit_rope_layout").asText("half")).append(" layout");
            m.put("positions", s.toString());
        } else m.put("positions", "learned position embeddings");
        m.put("tied_embeddings", c.tiedEmbeddings());
        if (c.savedDtype() != null) m.put("dtype", c.savedDtype());
        JsonNode q = c.raw().get("quantization_config");
        if (q != null && q.isObject()) m.put("quantization", q.path("quant_method").asText("?") + (q.has("bnb_4bit_quant_type") && q.path("load_in_4bit").asBoolean()
                ? " " + q.get("bnb_4bit_quant_type").asText() : q.path("load_in_8bit").asBoolean() ? " int8" : q.has("scheme") ? " " + q.get("scheme").asText() : ""));
        return m;
    }
}
