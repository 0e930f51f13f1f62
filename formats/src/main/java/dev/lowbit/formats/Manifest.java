package dev.lowbit.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * zstd-compressed model folders: every .safetensors becomes .safetensors.zst, and manifest.json records the sha256
 * and size of every file before and after compression, so that `lowbit verify` can prove the folder intact.
 */
public final class Manifest {
    public static final String FILE = "manifest.json";

    private Manifest() {}

    /** Compresses the safetensors of dir in place (each through a temp file) and writes manifest.json. */
    public static void compress(Path dir, int level) throws IOException {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("format", "lowbit-manifest/1").put("compression", "zstd");
        ArrayNode files = m.putArray("files");
        for (Path f : list(dir)) {
            String name = f.getFileName().toString();
            ObjectNode e = files.addObject();
            if (name.endsWith(".safetensors")) {
                Path z = dir.resolve(name + ".zst");
                AtomicFiles.write(z, out -> {
                    try (OutputStream zo = new ZstdOutputStream(nonClosing(out), level); InputStream in = Files.newInputStream(f)) {
                        in.transferTo(zo);
                    }
                });
                e.put("name", name + ".zst").put("original", name).put("size_original", Files.size(f)).put("sha256_original", sha256(f))
                        .put("size", Files.size(z)).put("sha256", sha256(z));
                Files.delete(f);
            } else {
                e.put("name", name).put("size", Files.size(f)).put("sha256", sha256(f));
            }
        }
        AtomicFiles.write(dir.resolve(FILE), out -> JsonTree.write(out, m));
    }

    /** Checks every file of the manifest; returns the problems found (empty when the folder is intact). */
    public static List<String> verify(Path dir) throws IOException {
        Path mf = dir.resolve(FILE);
        if (!Files.isRegularFile(mf)) throw new FormatException(mf, "no manifest.json in this folder");
        JsonNode m = JsonTree.readStrict(mf);
        List<String> problems = new ArrayList<>();
        for (JsonNode e : m.path("files")) {
            String name = e.path("name").asText();
            Path f = dir.resolve(name).normalize();
            if (!f.getParent().equals(dir.toAbsolutePath().normalize()) && !f.getParent().equals(dir.normalize())) {
                problems.add(name + ": outside the folder");
                continue;
            }
            if (!Files.isRegularFile(f)) {
                problems.add(name + ": missing");
                continue;
            }
            if (Files.size(f) != e.path("size").asLong() || !sha256(f).equals(e.path("sha256").asText())) {
                problems.add(name + ": sha256 or size differs from the manifest");
                continue;
            }
            if (e.has("sha256_original")) {
                try (InputStream in = new ZstdInputStream(Files.newInputStream(f))) {
                    if (!sha256(in).equals(e.get("sha256_original").asText())) problems.add(name + ": decompressed content differs from the manifest");
                } catch (IOException x) {
                    problems.add(name + ": does not decompress (" + x.getMessage() + ")");
                }
            }
        }
        return problems;
    }

    /** Decompresses a .zst file to a temp file (deleted on exit at the latest) and returns its path. */
    static Path decompressToTemp(Path zst) {
        try {
            Path tmp = Files.createTempFile("lowbit-", "-" + zst.getFileName().toString().replace(".zst", ""));
            tmp.toFile().deleteOnExit();
            try (InputStream in = new ZstdInputStream(Files.newInputStream(zst)); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            return tmp;
        } catch (IOException e) {
            throw new FormatException(zst, "cannot decompress: " + e.getMessage());
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(FILE)).sorted().toList();
        }
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            return sha256(in);
        }
    }

    static String sha256(InputStream in) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (DigestInputStream d = new DigestInputStream(in, md)) {
                d.transferTo(OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
