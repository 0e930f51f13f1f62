package dev.lowbit.validate;

import com.fasterxml.jackson.databind.JsonNode;

import dev.lowbit.formats.JsonTree;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** What a report judged: the model folders (weight files and their sha256), the text, and the candidate's scheme. */
public final class Provenance {
    private Provenance() {}

    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** path, and each weight file (*.safetensors, *.safetensors.zst, *.gguf) with its size and sha256. */
    public static Map<String, Object> model(Path model) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", model.toString());
        List<Path> files;
        try (Stream<Path> s = Files.isDirectory(model) ? Files.list(model) : Stream.of(model)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.endsWith(".safetensors") || n.endsWith(".safetensors.zst") || n.endsWith(".gguf"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        m.put("weights", files.stream().map(f -> {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("file", f.getFileName().toString());
            try {
                w.put("bytes", Files.size(f));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            w.put("sha256", sha256(f));
            return w;
        }).toList());
        return m;
    }

    /** The candidate's quantization_config from config.json (bitsandbytes or lowbit), or null for an unquantized model. */
    public static JsonNode scheme(Path model) {
        Path cfg = Files.isDirectory(model) ? model.resolve("config.json") : model.resolveSibling("config.json");
        if (!Files.isRegularFile(cfg)) return null;
        try {
            JsonNode q = JsonTree.read(cfg).get("quantization_config");
            return q == null || q.isNull() ? null : q;
        } catch (IOException e) {
            return null;
        }
    }

    public static Map<String, Object> text(Path file, int tokens) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", file == null ? null : file.toString());
        m.put("sha256", file == null ? null : sha256(file));
        m.put("tokens", tokens);
        return m;
    }

    public static String version() {
        String v = Provenance.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
