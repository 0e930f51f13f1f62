package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Quantizer;
import dev.lowbit.quantizers.Recipe;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.quantizers.TensorReport;
import dev.lowbit.samples.Samples;
import dev.lowbit.validate.Drift;
import dev.lowbit.validate.DriftReport;
import dev.lowbit.validate.TokenIds;
import dev.lowbit.validate.model.TensorDiff;
import dev.lowbit.validate.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidateCommandTest {
    @TempDir
    Path tmp;

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    static final String IDS = Samples.tinyLlama().resolve("reference/eval_token_ids_first16384.i32").toString();

    @Test
    void aModelAgainstItselfHasNoDrift() throws Exception {
        String m = Samples.tinyLlama().toString();
        CliRun r = run("validate", m, m, "--ids", IDS, "--ctx", "128", "--max-chunks", "4", "--report", tmp.toString(),
                "--max-ppl-drift", "0", "--max-kld", "0", "--min-top1", "100");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(tmp.resolve("report.json").toFile());
        JsonNode d = doc.get("drift");
        assertEquals(DriftReport.SCHEMA, d.get("schema").asText());
        assertEquals(0.0, d.get("delta_ppl").asDouble());
        assertEquals(0.0, d.get("kld").get("mean").asDouble());
        assertEquals(100.0, d.get("same_top1_percent").asDouble());
        assertEquals(4 * 127, d.get("tokens").asInt());
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("| same top-1 | 100.000% |"));
        assertTrue(Files.readString(tmp.resolve("report.html")).contains("<svg"));
    }

    /** report.json against its published JSON Schema; tokens.arrow back through Arrow Java's reader. */
    @Test
    void reportFilesAreValidJsonSchemaAndArrow() throws Exception {
        Path q = tmp.resolve("q"), rep = tmp.resolve("rep");
        Quantizer.run(Samples.tinyLlama(), q, new Recipe(Scheme.NF4, Layout.HF_BNB, 64, true, List.of(), List.of(), false, null), false, false, null);
        CliRun r = run("validate", Samples.tinyLlama().toString(), q.toString(), "--ids", IDS, "--ctx", "128", "--max-chunks", "3", "--report", rep.toString());
        assertEquals(0, r.code(), r.err());
        var factory = com.networknt.schema.JsonSchemaFactory.getInstance(com.networknt.schema.SpecVersion.VersionFlag.V202012);
        try (var in = DriftReport.class.getResourceAsStream("report.schema.json")) {
            var schema = factory.getSchema(in);
            var errors = schema.validate(new ObjectMapper().readTree(rep.resolve("report.json").toFile()));
            assertTrue(errors.isEmpty(), errors.toString());
        }
        try (var alloc = new org.apache.arrow.memory.RootAllocator();
             var reader = new org.apache.arrow.vector.ipc.ArrowFileReader(Files.newByteChannel(rep.resolve("tokens.arrow")), alloc)) {
            // The columns as documented (README: chunk, position, token id and text, nll, p(target) and top-1 of both
            // models, KLD), spelled out here rather than taken from the writer's own constant.
            String[][] columns = {{"chunk", "Int(32, true)", "false"}, {"position", "Int(32, true)", "false"}, {"token_id", "Int(32, true)", "false"},
                    {"token_text", "Utf8", "true"}, {"nll_base", "FloatingPoint(DOUBLE)", "false"}, {"nll_candidate", "FloatingPoint(DOUBLE)", "false"},
                    {"kld", "FloatingPoint(DOUBLE)", "false"}, {"p_base", "FloatingPoint(DOUBLE)", "false"}, {"p_candidate", "FloatingPoint(DOUBLE)", "false"},
                    {"top1_base", "Int(32, true)", "false"}, {"top1_candidate", "Int(32, true)", "false"}};
            var fields = reader.getVectorSchemaRoot().getSchema().getFields();
            assertEquals(columns.length, fields.size(), fields.toString());
            for (int i = 0; i < columns.length; i++) {
                assertEquals(columns[i][0], fields.get(i).getName());
                assertEquals(columns[i][1], fields.get(i).getType().toString(), columns[i][0]);
                assertEquals(Boolean.parseBoolean(columns[i][2]), fields.get(i).isNullable(), columns[i][0]);
            }
            int[] ids = TokenIds.read(Path.of(IDS));
            assertTrue(reader.getVectorSchemaRoot().getSchema().getCustomMetadata().get("lowbit.units").contains("nats"));
            int rows = 0;
            double kld = 0;
            while (reader.loadNextBatch()) {
                var root = reader.getVectorSchemaRoot();
                var k = (org.apache.arrow.vector.Float8Vector) root.getVector("kld");
                var chunk = (org.apache.arrow.vector.IntVector) root.getVector("chunk");
                var pos = (org.apache.arrow.vector.IntVector) root.getVector("position");
                var id = (org.apache.arrow.vector.IntVector) root.getVector("token_id");
                var text = (org.apache.arrow.vector.VarCharVector) root.getVector("token_text");
                var nll = (org.apache.arrow.vector.Float8Vector) root.getVector("nll_base");
                var p = (org.apache.arrow.vector.Float8Vector) root.getVector("p_base");
                for (int i = 0; i < root.getRowCount(); i++) {
                    int row = rows + i;
                    assertEquals(row / 127, chunk.get(i), "row " + row);
                    assertEquals(row % 127 + 1, pos.get(i), "row " + row);
                    assertEquals(ids[chunk.get(i) * 128 + pos.get(i)], id.get(i), "the scored token is the input's, row " + row);
                    assertTrue(!text.isNull(i), "the base folder has tokenizer.json: token_text is filled, row " + row);
                    assertEquals(Math.exp(-nll.get(i)), p.get(i), 1e-12, "p(target) = exp(−nll), row " + row);
                    assertTrue(k.get(i) >= 0, "KL ≥ 0, row " + row);
                    kld += k.get(i);
                }
                rows += root.getRowCount();
            }
            assertEquals(3 * 127, rows);
            JsonNode d = new ObjectMapper().readTree(rep.resolve("report.json").toFile()).get("drift");
            assertEquals(d.get("kld").get("mean").asDouble(), kld / rows, 1e-12, "the rows add up to the report's mean KLD");
        }
    }

    /**
     * FP4 with the coarsest block bitsandbytes allows (4096) is a deliberately bad candidate (+0.9% ppl here, against
     * +0.2% for NF4 at 64): the ppl gate fails with exit 1 and names itself on the last line.
     */
    @Test
    void aBadCandidateFailsThePplGate() throws Exception {
        Path bad = tmp.resolve("bad");
        Quantizer.run(Samples.tinyLlama(), bad, new Recipe(Scheme.FP4, Layout.HF_BNB, 4096, false, List.of(), List.of(), false, null), false, false, null);
        CliRun r = run("validate", Samples.tinyLlama().toString(), bad.toString(), "--ids", IDS, "--ctx", "256", "--max-chunks", "8", "--max-ppl-drift", "0.5");
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().strip().lines().reduce((a, b) -> b).orElse("").contains("--max-ppl-drift 0.5"), r.err());
    }

    /** The engine's decode of every layout gives back exactly what the quantizer dequantized (same error, tensor by tensor). */
    @ParameterizedTest
    @ValueSource(strings = {"int8:lowbit", "int8:hf-bnb", "int8-block:lowbit", "int4:lowbit", "int4-asym:lowbit", "nf4:lowbit", "nf4:hf-bnb",
            "nf4+dq:hf-bnb", "fp4:hf-bnb", "fp4:lowbit", "fp4+dq:hf-bnb"})
    void engineDecodeEqualsQuantizerDequantize(String spec) throws Exception {
        String[] p = spec.split(":");
        boolean dq = p[0].endsWith("+dq");
        Scheme s = Scheme.parse(p[0].replace("+dq", ""));
        Path out = tmp.resolve("q");
        Quantizer.Result q = Quantizer.run(Samples.tinyLlama(), out, new Recipe(s, Layout.parse(p[1]), 64, dq, List.of(), List.of(), false, null), false, false, null);
        Map<String, TensorReport> byName = new LinkedHashMap<>();
        q.tensors().forEach(t -> byName.put(t.name(), t));
        int checked = 0;
        for (TensorDiff.Row row : TensorDiff.compare(Samples.tinyLlama(), out)) {
            TensorReport t = byName.get(row.name());
            if (t == null || t.error() == null) continue;
            // the quantizer's own tally: NF4 measures in float32 vector lanes (partial sums of 32 values, |error| of a
            // float32 difference), the rest in double; a wrong decode differs by orders of magnitude more
            assertEquals(t.error().rmse(), row.error().rmse(), 1e-12 + 1e-5 * t.error().rmse(), row.name());
            assertEquals(t.error().maxAbs(), row.error().maxAbs(), 1e-12 + 1e-6 * t.error().maxAbs(), row.name());
            checked++;
        }
        assertEquals(28, checked, "every quantized weight of tiny-llama");
        assertEquals(28, Resolution.check(Samples.tinyLlama(), out, p[0].replace("+dq", ""), dq, 64), "and each within its format's resolution");
    }

    /** Drift of each scheme on each sample, printed for the record; the ordering must be sane. */
    @ParameterizedTest
    @ValueSource(strings = {"embedded", "tiny-gpt2", "tiny-bloom", "tiny-llama"})
    void driftOrderingIsSane(String name) throws Exception {
        Path model = name.equals("embedded") ? Samples.tinyLlama() : Samples.requireShared(name);
        int[] ids = TokenIds.read(name.equals("embedded") ? Path.of(IDS) : model.resolve("reference/eval_token_ids.i32"));
        String[] schemes = {"fp16", "bf16", "int8", "int4", "nf4", "nf4+dq"};
        Map<String, DriftReport> reports = new LinkedHashMap<>();
        StringBuilder table = new StringBuilder(name + " (ctx 128, 16 chunks): scheme  Δppl%  mean KLD  same top-1%\n");
        try (Transformer base = Transformer.open(model)) {
            for (String sc : schemes) {
                Path out = tmp.resolve(name + "-" + sc.replace('+', '_'));
                Quantizer.run(model, out, new Recipe(Scheme.parse(sc.replace("+dq", "")), sc.endsWith("+dq") ? Layout.HF_BNB : Layout.LOWBIT, 64, sc.endsWith("+dq"),
                        List.of(), List.of(), false, null), false, false, null);
                try (Transformer cand = Transformer.open(out)) {
                    DriftReport r = DriftReport.of(Drift.run(base, cand, ids, 128, 16, null), 128);
                    reports.put(sc, r);
                    table.append(String.format(Locale.ROOT, "  %-7s %+8.4f %10.6f %8.3f%n", sc, r.deltaPplPercent(), r.kld().mean(), r.sameTop1Percent()));
                }
            }
        }
        System.out.print(table);
        double fp16 = reports.get("fp16").kld().mean(), bf16 = reports.get("bf16").kld().mean(), int8 = reports.get("int8").kld().mean();
        double int4 = reports.get("int4").kld().mean(), nf4 = reports.get("nf4").kld().mean();
        assertTrue(fp16 < int8 && bf16 < int8, table.toString());
        assertTrue(int8 < int4 && int8 < nf4, table.toString());
        assertTrue(nf4 <= int4, "NF4 ≤ INT4 at block 64: " + table);
    }
}
