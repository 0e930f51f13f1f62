package dev.lowbit.cli;

import dev.lowbit.quantizers.WeightEncoder;
import dev.lowbit.quantizers.calib.Calibration;
import dev.lowbit.quantizers.gptq.Gptq;
import dev.lowbit.quantizers.gptq.GptqEncoder;
import dev.lowbit.validate.calib.Calibrator;
import dev.lowbit.validate.model.Transformer;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** GPTQ for quantize and convert: the switch, its dampening, and calibration with XᵀX. */
final class GptqOptions {
    @Option(names = "--gptq", description = "GPTQ: quantize each weight's columns in order, spreading every column's error over the columns not yet "
            + "quantized with the inverse of XᵀX of the layer's inputs (from --calibrate TEXT). Any block format (GGUF types, nf4, fp4, int4); "
            + "the output is a plain file of that format.")
    boolean gptq;

    @Option(names = "--gptq-damp", paramLabel = "F", description = "GPTQ dampening: this fraction of the mean diagonal of XᵀX is added to it (default 0.01).")
    Double damp;

    /** Refuses --gptq-damp without --gptq; the GPTQ options (default dampening when not given). */
    Gptq.Options options() {
        if (damp != null && !gptq) throw new IllegalArgumentException("--gptq-damp without --gptq means nothing");
        return new Gptq.Options(damp != null ? damp : Gptq.Options.DEFAULT.damp(), Gptq.Options.DEFAULT.batch());
    }

    /** The GPTQ encoder over a calibration that has XᵀX, or null without --gptq. */
    WeightEncoder encoder(Calibration c) {
        Gptq.Options o = options();
        if (!gptq) return null;
        if (c == null) throw new IllegalArgumentException("--gptq needs the layers' input statistics: give --calibrate TEXT");
        return new GptqEncoder(c, o);
    }

    /**
     * Calibrates with XᵀX (chunks of ctx tokens with BOS, as llama-imatrix), lm_head included, with a progress bar when
     * forPeople on a terminal.
     */
    static Calibration calibrate(Path model, Path text, int ctx, boolean forPeople) throws IOException {
        Tokenizer tok = Tokenizer.load(model);
        int[] ids = tok.encode(EvalInput.readText(text), true);
        int[] with = tok.encode("a", true), without = tok.encode("a", false);
        int bos = with.length > without.length && with[0] != without[0] ? with[0] : -1;
        Calibrator.Options o = new Calibrator.Options(ctx, 0, true, true);
        int chunks = Calibrator.chunks(ids.length, o);
        if (chunks == 0) throw new IllegalArgumentException("--calibrate " + text + ": " + ids.length + " tokens, fewer than one chunk of " + ctx);
        Progress bar = Progress.start("calibrate", chunks, forPeople);
        try (Transformer t = Transformer.open(model)) {
            return Calibrator.run(t, ids, bos, o, text.toString(), (done, n) -> bar.update(done));
        } finally {
            bar.done();
        }
    }
}
