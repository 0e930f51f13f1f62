package dev.lowbit.cli;

import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.quantizers.calib.ImatrixFile;
import dev.lowbit.validate.calib.Calibrator;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "calibrate",
        description = {"Runs a model over calibration text and writes its importance matrix (mean x² of every linear layer's input per column), "
                + "in llama.cpp's imatrix.gguf format: llama-quantize --imatrix reads it, and lowbit quantize/convert --imatrix too.",
                "Chunking as llama-imatrix: the text tokenized with BOS, cut into chunks of --ctx tokens, each chunk's first token set to BOS."},
        footerHeading = "%nExamples:%n",
        footer = {"  lowbit calibrate MODEL --text calib_text.txt -o imatrix.gguf",
                "  lowbit calibrate MODEL.gguf --text calib_text.txt -o imatrix.gguf \\",
                "      --ctx 256 --max-chunks 50",
                "  lowbit calibrate MODEL --text calib_text.txt -o imatrix.gguf --hessian \\",
                "      (--hessian: also XᵀX for GPTQ)"})
final class CalibrateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "Model folder (config.json, tokenizer.json, safetensors) or a .gguf file.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 calibration text (never the text you evaluate with).")
    Path text;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.gguf", description = "The importance matrix to write (GGUF, as llama-imatrix writes).")
    Path output;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "512", description = "Tokens per chunk (default ${DEFAULT-VALUE}, as llama-imatrix).")
    int ctx;

    @Option(names = "--max-chunks", paramLabel = "N", defaultValue = "0", description = "Use at most N chunks (default 0: all that fit in the text).")
    int maxChunks;

    @Option(names = "--hessian", description = "Also collect XᵀX per distinct input (cols² floats each; stored as lowbit's <name>.xtx tensors, which llama.cpp ignores).")
    boolean hessian;

    @Option(names = "--process-output", description = "Also collect output.weight's input (llama-imatrix --process-output).")
    boolean processOutput;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))
            throw new IllegalArgumentException("-o " + output + ": the importance matrix is written as GGUF; name it *.gguf");
        Calibrator.Options o = new Calibrator.Options(ctx, maxChunks, hessian, processOutput);
        long t0 = System.nanoTime();
        Imatrix m = calibrate(model, text, o, !json);
        double seconds = (System.nanoTime() - t0) / 1e9, tokS = (double) m.chunkCount() * m.chunkSize() / seconds;
        ImatrixFile.write(output, m);
        var out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("model", model.toString());
            j.put("text", text.toString());
            j.put("output", output.toString());
            j.put("chunks", m.chunkCount());
            j.put("ctx", m.chunkSize());
            j.put("tokens", (long) m.chunkCount() * m.chunkSize());
            j.put("weights", m.stats().size());
            j.put("hessian", m.hasHessians());
            j.put("seconds", seconds);
            j.put("tokens_per_second", tokS);
            out.println(Json.pretty(j));
        } else {
            out.printf(Locale.ROOT, "%s: %d weights, %d chunks of %d tokens, %.1f tokens/s%s%n", output, m.stats().size(), m.chunkCount(),
                    m.chunkSize(), tokS, m.hasHessians() ? ", with XᵀX" : "");
        }
        return 0;
    }

    /** Calibrates a model on a text file (as `lowbit calibrate`), with a progress bar when forPeople on a terminal. */
    static Imatrix calibrate(Path model, Path text, Calibrator.Options o, boolean forPeople) throws IOException {
        String s = EvalInput.readText(text);
        try (Transformer t = Transformer.open(model)) {
            Tokenizer tok = Tokenizer.load(model);
            int[] ids = tok.encode(s, true);
            int bos = bos(tok);
            int chunks = Calibrator.chunks(ids.length, o);
            if (chunks == 0)
                throw new IllegalArgumentException("--text " + text + ": " + ids.length + " tokens, fewer than one chunk of " + o.ctx() + " (lower --ctx)");
            Progress bar = Progress.start("calibrate", chunks, forPeople);
            try {
                return Calibrator.run(t, ids, bos, o, text.toString(), (done, n) -> bar.update(done));
            } finally {
                bar.done();
            }
        }
    }

    /** The token the tokenizer puts before a text (BOS), or -1. */
    static int bos(Tokenizer tok) {
        int[] with = tok.encode("a", true), without = tok.encode("a", false);
        return with.length > without.length && with[0] != without[0] ? with[0] : -1;
    }
}
