package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.spi.SLF4JServiceProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line as a demanding user finds it: help, refusals with reasons, one JSON convention, plain ASCII. */
class UsabilityTest {
    @TempDir
    Path tmp;

    static final String M = Samples.tinyLlama().toString(), TEXT = Samples.evalTextHead().toString();

    /** Every registered command (new ones included), except picocli's own help and completion generators. */
    static final List<String> COMMANDS = Main.commandLine().getSubcommands().keySet().stream()
            .filter(c -> !c.equals("help") && !c.equals("generate-completion")).toList();

    static List<String> commands() {
        return COMMANDS;
    }

    @Test
    void theCommandListIsComplete() {
        assertTrue(COMMANDS.containsAll(List.of("inspect", "quantize", "calibrate", "rewrite", "verify", "perplexity", "generate", "validate", "convert",
                "merge", "sweep", "demo", "bench")), COMMANDS.toString());
    }

    /** Main lists each command with its name written out (no annotation parsing at start-up): the name is the command's own. */
    @Test
    void theWrittenOutNamesAreTheCommandsOwn() {
        for (Main.Named c : Main.COMMANDS) assertEquals(c.type().getAnnotation(Command.class).name(), c.name(), c.type().getName());
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyCommandHasHelpWithExamples(String cmd) {
        for (String[] args : new String[][] {{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}}) {
            CliRun r = CliRun.of(args);
            assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.out().contains("Usage: lowbit " + cmd), r.out());
            assertTrue(r.out().contains("Examples:\n  lowbit " + cmd) || r.out().contains("Examples:\n  lowbit quantize"), r.out());
        }
    }

    /** Examples are copied from the terminal: picocli wraps a long one at column 80 into column 0, which reads as a new command. */
    @Test
    void examplesFitEightyColumns() {
        List<String> wide = new ArrayList<>();
        CommandLine cl = Main.commandLine();
        List<CommandLine.Model.CommandSpec> specs = new ArrayList<>(List.of(cl.getCommandSpec()));
        for (String cmd : COMMANDS) specs.add(cl.getSubcommands().get(cmd).getCommandSpec());
        for (var spec : specs)
            for (String line : spec.usageMessage().footer())
                if (line.length() > 80) wide.add(spec.qualifiedName() + ": " + line);
        assertEquals(List.of(), wide);
    }

    /** Main leaves picocli's java.time and java.sql converters out (start-up): no option or parameter may need one. */
    @Test
    void noOptionTakesATypeWhoseConverterIsLeftOut() {
        List<String> excluded = List.of(Main.CONVERTERS_EXCLUDED.split(","));
        List<String> needing = new ArrayList<>();
        CommandLine cl = Main.commandLine();
        List<CommandLine.Model.CommandSpec> specs = new ArrayList<>(List.of(cl.getCommandSpec()));
        for (String cmd : COMMANDS) specs.add(cl.getSubcommands().get(cmd).getCommandSpec());
        for (var spec : specs)
            for (var arg : spec.args()) {
                List<Class<?>> types = new ArrayList<>(List.of(arg.type()));
                types.addAll(List.of(arg.auxiliaryTypes()));
                for (Class<?> t : types)
                    if (excluded.stream().anyMatch(t.getName()::matches)) needing.add(spec.qualifiedName() + " " + arg + ": " + t.getName());
            }
        assertEquals(List.of(), needing);
        assertTrue(excluded.stream().anyMatch("java.time.Duration"::matches) && excluded.stream().anyMatch("java.sql.Timestamp"::matches)
                && excluded.stream().noneMatch("java.nio.file.Path"::matches), Main.CONVERTERS_EXCLUDED);
    }

    @Test
    void everyOptionAndParameterIsDescribed() {
        List<String> missing = new ArrayList<>();
        CommandLine cl = Main.commandLine();
        for (String cmd : COMMANDS) {
            var spec = cl.getSubcommands().get(cmd).getCommandSpec();
            for (var o : spec.options())
                if (!o.hidden() && (o.description().length == 0 || o.description()[0].isBlank())) missing.add(cmd + " " + o.longestName());
            for (var p : spec.positionalParameters())
                if (p.description().length == 0) missing.add(cmd + " " + p.paramLabel());
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void versionNamesCommitJdkAndSimd() {
        CliRun r = CliRun.of("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("lowbit ") && r.out().contains("commit") && r.out().contains("JDK ") && r.out().contains("kernels "), r.out());
    }

    @Test
    void completionScriptIsGenerated() {
        CliRun r = CliRun.of("generate-completion");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("complete -F") && r.out().contains("quantize"), r.out().substring(0, 200));
    }

    /** Each case: exit 2 and a message saying what is wrong (the fragment), nothing written. */
    @ParameterizedTest
    @ValueSource(strings = {
            "quantize M -o OUT --scheme nf4 --compute-dtype fp8|--compute-dtype takes float16, bfloat16 or float32",
            "quantize M -o OUT --scheme int8 --block 32|--block applies to nf4, fp4",
            "quantize M -o OUT --scheme nf4 --only foo*|--only 'foo*' matches no tensor",
            "quantize M -o OUT --scheme nf4 --keep *|--keep '*' keeps every tensor",
            "quantize M -o OUT --scheme nf4 --only *norm*|nothing to quantize",
            "quantize M -o OUT --scheme nf4 --compress gzip|--compress takes zstd",
            "quantize M -o OUT --scheme nf5|unknown scheme 'nf5'",
            "rewrite M -o OUT|nothing to rewrite",
            "rewrite M -o OUT --factor 4|--factor needs --rope-scaling",
            "rewrite M -o OUT --rope-scaling dynamic --factor 2 --beta-fast 8|--beta-fast/--beta-slow apply to --rope-scaling yarn only",
            "rewrite M -o OUT --rope-scaling linear --factor 2 --low-freq-factor 1|apply to --rope-scaling llama3 only",
            "rewrite M -o OUT --rope-scaling yarn|needs --factor",
            "rewrite M -o OUT --rope-scaling yarn --factor 0|--factor must be a positive number",
            "perplexity M --text TEXT --ctx 0|--ctx must be at least 2",
            "perplexity M --text TEXT --max-chunks -1|--max-chunks must be 0 (all) or positive",
            "perplexity M --text /nonexistent.txt|--text /nonexistent.txt: no such file",
            "perplexity M --text /bin/ls|not UTF-8 text",
            "perplexity M --text TEXT --ctx 100000|fewer than one chunk of --ctx 100000",
            "validate M M --text TEXT --report FILE|exists and is not a folder",
            "convert M -o OUT --scheme nf4 --text TEXT --max-chunks -1|--max-chunks must be",
            "bench --weights F32,foo|--weights: 'foo' is neither",
            "demo --ctx 0|--ctx must be at least 2",
            "-t 0 inspect M|--threads must be at least 1"})
    void refusalsSayWhatIsWrong(String c) throws Exception {
        String[] p = c.split("\\|");
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Path out = tmp.resolve("out");
        String[] args = p[0].split(" ");
        for (int i = 0; i < args.length; i++)
            args[i] = switch (args[i]) {
                case "M" -> M;
                case "TEXT" -> TEXT;
                case "OUT" -> out.toString();
                case "FILE" -> file.toString();
                default -> args[i];
            };
        if (args[0].equals("bench")) args = append(args, "--dir", tmp.resolve("bench").toString());
        CliRun r = CliRun.of(args);
        assertEquals(2, r.code(), p[0] + "\n" + r.out() + r.err());
        assertTrue(r.err().contains(p[1]), p[0] + " -> " + r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        if (args[0].equals("bench")) assertFalse(Files.exists(tmp.resolve("bench").resolve("llama82m-f32")), "foo is refused before F32 is benchmarked");
    }

    static String[] append(String[] a, String... more) {
        String[] b = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, b, a.length, more.length);
        return b;
    }

    @Test
    void usageErrorsPointToHelp() {
        CliRun r = CliRun.of("quantize", M);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required options") && r.err().contains("lowbit quantize --help"), r.err());
    }

    /** A typo is named, with the nearest spelling, instead of the "missing required option" it causes. */
    @Test
    void typosAreNamedWithASuggestion() {
        CliRun r = CliRun.of("quantize", M, "-o", tmp.resolve("q").toString(), "--schem", "nf4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'--schem'") && r.err().contains("Did you mean: --scheme?"), r.err());
        assertFalse(r.err().contains("Missing required"), r.err());
        r = CliRun.of("quantise", M);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'quantise'") && r.err().contains("Did you mean: quantize?"), r.err());
        assertFalse(Files.exists(tmp.resolve("q")));
        assertEquals(3, Suggest.distance("quantise", "quantize") + Suggest.distance("--schem", "--scheme") + Suggest.distance("kitten", "sitten"));
        assertEquals(List.of(), Suggest.nearest("--zzzzzz", List.of("--scheme", "--block")), "nothing near: no suggestion");
    }

    /** Arrow (tokens.arrow) logs through SLF4J: without a provider on the class path SLF4J prints three warnings on every run. */
    @Test
    void slf4jFindsAProviderSoItPrintsNoWarnings() {
        assertTrue(ServiceLoader.load(SLF4JServiceProvider.class).findFirst().isPresent(),
                "no SLF4J provider: validate, convert and demo would print SLF4J's 'No SLF4J providers were found' warnings");
    }

    @Test
    void enumValuesAcceptAnyCase() throws Exception {
        CliRun r = CliRun.of("quantize", M, "-o", tmp.resolve("q").toString(), "--scheme", "NF4", "--layout", "HF-BNB", "--compute-dtype", "BF16", "--dry-run");
        assertEquals(0, r.code(), r.err());
        r = CliRun.of("rewrite", M, "-o", tmp.resolve("r").toString(), "--rope-scaling", "Linear", "--factor", "2");
        assertEquals(0, r.code(), r.err());
    }

    /** transformers derives yarn's factor from max_position_embeddings / original: the rewrite must raise max. */
    @Test
    void yarnRewriteRaisesMaxPositionsSoTheFactorTakesEffect() throws Exception {
        Path out = tmp.resolve("yarn");
        CliRun r = CliRun.of("rewrite", M, "-o", out.toString(), "--rope-scaling", "yarn", "--factor", "4", "--original-max-position", "1024");
        assertEquals(0, r.code(), r.err());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(4096, cfg.get("max_position_embeddings").asInt());
        assertEquals(1024, cfg.get("rope_scaling").get("original_max_position_embeddings").asInt());
        assertEquals(4.0, cfg.get("max_position_embeddings").asDouble() / cfg.get("rope_parameters").get("original_max_position_embeddings").asDouble());
        r = CliRun.of("rewrite", M, "-o", tmp.resolve("one").toString(), "--rope-scaling", "yarn", "--factor", "1");
        assertEquals(0, r.code());
        assertTrue(r.err().contains("warning: --factor 1 leaves the RoPE frequencies as they are"), r.err());
    }

    @Test
    void contextBeyondTrainingWarns() {
        CliRun r = CliRun.of("perplexity", M, "--text", TEXT, "--ctx", "2048", "--max-chunks", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("was trained for 1024 positions"), r.err());
        r = CliRun.of("-q", "perplexity", M, "--text", TEXT, "--ctx", "2048", "--max-chunks", "1");
        assertEquals("", r.err(), "--quiet silences warnings");
    }

    @Test
    void differentTokenizersAreRefusedUnlessAllowed() throws Exception {
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        try (var s = Files.list(Samples.tinyLlama())) {
            for (Path f : s.filter(Files::isRegularFile).toList()) Files.copy(f, other.resolve(f.getFileName()));
        }
        ObjectMapper om = new ObjectMapper();
        var tok = (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(other.resolve("tokenizer.json").toFile());
        var vocab = (com.fasterxml.jackson.databind.node.ObjectNode) tok.get("model").get("vocab");
        Iterator<String> names = vocab.fieldNames();
        String a = names.next(), b = names.next();
        int ia = vocab.get(a).asInt(), ib = vocab.get(b).asInt();
        vocab.put(a, ib).put(b, ia);
        om.writeValue(other.resolve("tokenizer.json").toFile(), tok);
        CliRun r = CliRun.of("validate", M, other.toString(), "--text", TEXT, "--ctx", "64", "--max-chunks", "1", "--report", tmp.resolve("rep").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("do not share a tokenizer") && r.err().contains("--allow-tokenizer-mismatch"), r.err());
        r = CliRun.of("validate", M, other.toString(), "--text", TEXT, "--ctx", "64", "--max-chunks", "1", "--report", tmp.resolve("rep").toString(),
                "--allow-tokenizer-mismatch");
        assertEquals(0, r.code(), r.err());
    }

    /** validate prints a short summary, writes the report, and the report says what it judged. */
    @Test
    void validateSummaryAndReportProvenance() throws Exception {
        Path rep = tmp.resolve("rep");
        CliRun r = CliRun.of("validate", M, M, "--text", TEXT, "--ctx", "64", "--max-chunks", "2", "--report", rep.toString(), "--max-kld", "0.0001");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().count() <= 6, r.out());
        assertTrue(r.out().startsWith("PASS") && r.out().contains("≤ 0.0001") && !r.out().contains("E-4"), r.out());
        JsonNode doc = new ObjectMapper().readTree(rep.resolve("report.json").toFile());
        assertEquals("pass", doc.get("verdict").asText());
        assertEquals(0.0001, doc.get("gates").get("max_kld").asDouble());
        assertEquals(64, doc.get("inputs").get("text").get("sha256").asText().length());
        assertEquals(TEXT, doc.get("inputs").get("text").get("path").asText());
        assertTrue(doc.get("inputs").get("text").get("tokens").asInt() > 10000);
        assertEquals(64, doc.get("inputs").get("base").get("weights").get(0).get("sha256").asText().length());
        assertTrue(doc.has("lowbit_version") && doc.get("created").asText().endsWith("Z"));
        assertSnakeCase(doc, "report.json");
        for (String f : List.of("report.md", "report.html", "tokens.arrow")) assertTrue(Files.isRegularFile(rep.resolve(f)), f);
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(new java.util.zip.GZIPInputStream(Files.newInputStream(rep.resolve("tokens.csv.gz"))),
                StandardCharsets.UTF_8))) {
            assertEquals("chunk,position,token_id,token_text,nll_base,nll_candidate,kld,p_base,p_candidate,top1_base,top1_candidate", in.readLine());
            assertEquals(2 * 63, in.lines().count(), "one row per scored token, as tokens.arrow");
        }
        CliRun md = CliRun.of("validate", M, M, "--text", TEXT, "--ctx", "64", "--max-chunks", "2", "--report", rep.toString(), "--markdown");
        assertTrue(md.out().startsWith("### lowbit drift") && md.out().contains("**PASS**"), md.out());
    }

    @Test
    void gateFailuresEchoThresholdsAsTyped() throws Exception {
        Path q = tmp.resolve("q");
        assertEquals(0, CliRun.of("-q", "quantize", M, "-o", q.toString(), "--scheme", "int4").code());
        CliRun r = CliRun.of("validate", M, q.toString(), "--text", TEXT, "--ctx", "64", "--max-chunks", "2", "--max-kld", "0.0001", "--report", tmp.resolve("r").toString());
        assertEquals(1, r.code(), r.err());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.contains("--max-kld 0.0001: mean KLD") && !last.contains("E-"), last);
        assertTrue(r.out().startsWith("FAIL"), r.out());
    }

    @Test
    void jsonIsSnakeCaseEverywhere() throws Exception {
        ObjectMapper om = new ObjectMapper();
        assertSnakeCase(om.readTree(CliRun.of("inspect", M, "--json").out()), "inspect");
        assertSnakeCase(om.readTree(CliRun.of("quantize", M, "-o", tmp.resolve("q").toString(), "--scheme", "nf4", "--dry-run", "--json").out()), "quantize");
        assertSnakeCase(om.readTree(CliRun.of("perplexity", M, "--text", TEXT, "--ctx", "64", "--max-chunks", "1", "--json").out()), "perplexity");
    }

    static void assertSnakeCase(JsonNode n, String where) {
        if (n.isObject()) n.properties().forEach(e -> {
            assertTrue(e.getKey().equals(e.getKey().toLowerCase(java.util.Locale.ROOT)) || e.getKey().matches("[A-Z0-9_]+"), where + ": " + e.getKey());
            assertSnakeCase(e.getValue(), where);
        });
        if (n.isArray()) n.forEach(x -> assertSnakeCase(x, where));
    }

    @Test
    void quantizeReportsBothBitsPerWeightAndNoSpeedInDryRun() {
        CliRun r = CliRun.of("quantize", M, "-o", tmp.resolve("q").toString(), "--scheme", "nf4", "--dry-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bits/weight over the") && r.out().contains("bits/weight for the whole file"), r.out());
        assertFalse(r.out().contains("GB/s"), r.out());
        r = CliRun.of("quantize", M, "-o", tmp.resolve("q").toString(), "--scheme", "nf4", "--keep", "*q_proj*");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("Infinity"), r.out());
    }

    @Test
    void inspectShowsWeightFormatsAndConfig() {
        Path q = tmp.resolve("q");
        assertEquals(0, CliRun.of("-q", "quantize", M, "-o", q.toString(), "--scheme", "nf4", "--double-quant").code());
        CliRun r = CliRun.of("inspect", q.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("nf4, block 64, double quant") && r.out().contains("context length         1024")
                && r.out().contains("RoPE theta 10000") && r.out().contains("vocab size             4096"), r.out());
        assertFalse(r.out().contains(".absmax "), "parts only with --parts");
        assertTrue(CliRun.of("inspect", q.toString(), "--parts").out().contains(".absmax "));
    }

    @Test
    void demoTwiceInTheSameDir() {
        assertEquals(0, CliRun.of("-q", "demo", "--dir", tmp.toString(), "--max-chunks", "1", "--ctx", "64").code());
        CliRun r = CliRun.of("-q", "demo", "--dir", tmp.toString(), "--max-chunks", "1", "--ctx", "64");
        assertEquals(0, r.code(), r.err());
    }

    /** Ctrl-C: the shutdown hook removes the staging folder that appeared beside OUT, and leaves older ones. */
    @Test
    void interruptCleansTheStagingFolder() throws Exception {
        Path out = tmp.resolve("model-nf4");
        Path older = Files.createDirectories(tmp.resolve(".model-nf4.tmp-older"));
        try (Cleanup c = Cleanup.guard(out)) {
            Path staging = Files.createDirectories(tmp.resolve(".model-nf4.tmp-123"));
            Files.writeString(staging.resolve("model.safetensors"), "partial");
            c.removeNew();
            assertFalse(Files.exists(staging));
            assertTrue(Files.exists(older));
        }
    }

    /** LANG=C: the terminal's charset cannot show ± or →, so they are written as +/- and ->. */
    @Test
    void asciiTerminalGetsPlainAscii() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintWriter w = Text.writer(bytes, StandardCharsets.US_ASCII);
        w.print("ppl 98.75 ± 1.2 → 98.99, Δppl ≤ 2%");
        w.flush();
        assertEquals("ppl 98.75 +/- 1.2 -> 98.99, dppl <= 2%", bytes.toString(StandardCharsets.US_ASCII));
        bytes.reset();
        PrintWriter u = Text.writer(bytes, StandardCharsets.UTF_8);
        u.print("±→");
        u.flush();
        assertEquals("±→", bytes.toString(StandardCharsets.UTF_8));
    }
}
