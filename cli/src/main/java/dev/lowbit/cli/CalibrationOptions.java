package dev.lowbit.cli;

import dev.lowbit.formats.Checkpoint;
import dev.lowbit.formats.Tensor;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.quantizers.calib.Calibration;
import dev.lowbit.quantizers.calib.Imatrix;
import dev.lowbit.quantizers.calib.ImatrixFile;
import dev.lowbit.quantizers.calib.LinearNames;
import dev.lowbit.quantizers.calib.Weighting;
import dev.lowbit.quantizers.gguf.GgufFileType;
import dev.lowbit.validate.calib.Calibrator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** quantize/convert: an importance matrix (from a file or calibrated on the spot) and lowbit's scale search. */
final class CalibrationOptions {
    @Option(names = "--imatrix", paramLabel = "FILE", description = "Importance matrix (imatrix.gguf from lowbit calibrate or llama-imatrix, or llama.cpp's legacy .dat): "
            + "GGUF types are encoded as llama-quantize --imatrix encodes them; nf4/fp4/int4 search each block's scale minimising the importance-weighted error.")
    Path imatrix;

    @Option(names = "--calibrate", paramLabel = "TEXT", description = "Calibrate on this UTF-8 text first (as lowbit calibrate) and use that importance matrix.")
    Path calibrate;

    @Option(names = "--calib-ctx", paramLabel = "N", defaultValue = "512", description = "Tokens per calibration chunk with --calibrate (default ${DEFAULT-VALUE}).")
    int calibCtx;

    @Option(names = "--scale-search", description = "nf4, fp4, int4, int4-asym: search each block's scale (and min) for the least squared error instead of absmax "
            + "(implied by --imatrix/--calibrate; off by default: the hf-bnb bytes then equal bitsandbytes').")
    boolean scaleSearch;

    /** The GGUF file types with quantized tensors, all of whose types have llama-quantize's importance-matrix path in lowbit. */
    static final Set<String> GGUF_WEIGHTED = Set.of("Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K");

    boolean any() {
        return imatrix != null || calibrate != null || scaleSearch;
    }

    /** For a lowbit scheme (model folder output). */
    Weighting forScheme(Path model, Scheme s, boolean forPeople) throws IOException {
        if (!any()) return Weighting.NONE;
        boolean searched = s == Scheme.NF4 || s == Scheme.FP4 || s == Scheme.INT4 || s == Scheme.INT4_ASYM;
        if (!searched)
            throw new IllegalArgumentException(given() + ": scheme " + s.cliName() + " ignores importance and scale search (nf4, fp4, int4, int4-asym and GGUF types use them)");
        return new Weighting(load(model, forPeople), scaleSearch);
    }

    /** For a GGUF file type. */
    Weighting forGguf(Path model, GgufFileType ft, boolean forPeople) throws IOException {
        if (!any()) return Weighting.NONE;
        if (scaleSearch) throw new IllegalArgumentException("--scale-search is for nf4, fp4, int4: GGUF types search their scales as llama-quantize does");
        if (!GGUF_WEIGHTED.contains(ft.name()))
            throw new IllegalArgumentException(given() + ": GGUF " + ft.name() + " " + (Set.of("F32", "F16", "BF16", "Q8_0").contains(ft.name())
                    ? "ignores importance" : "has types whose importance path lowbit does not have yet") + " (use one of " + String.join(", ", GGUF_WEIGHTED.stream().sorted().toList()) + ")");
        return new Weighting(load(model, forPeople), false, imatrix == null ? null : imatrix.toString());
    }

    /**
     * The layers' input statistics XᵀX for GPTQ: collected on the spot with --calibrate TEXT (lm_head included), or read
     * with --imatrix FILE (made by lowbit calibrate --hessian).
     */
    Calibration forGptq(Path model, boolean forPeople) throws IOException {
        if (scaleSearch) throw new IllegalArgumentException("--scale-search with --gptq: GPTQ sets each block's scale with the format's own encoder");
        if (imatrix != null && calibrate != null) throw new IllegalArgumentException("--imatrix and --calibrate: give one (an importance matrix, or the text to make one)");
        if (calibCtx < 2) throw new IllegalArgumentException("--calib-ctx must be at least 2 tokens, not " + calibCtx);
        if (imatrix != null) {
            EvalInput.requireFile(imatrix, "--imatrix");
            Imatrix m = ImatrixFile.read(imatrix);
            checkNames(model, m, imatrix);
            return m;
        }
        if (calibrate != null) return GptqOptions.calibrate(model, calibrate, calibCtx, forPeople);
        throw new IllegalArgumentException("--gptq needs the layers' input statistics XᵀX: --calibrate TEXT, or --imatrix FILE made by lowbit calibrate --hessian");
    }

    private String given() {
        return imatrix != null ? "--imatrix" : calibrate != null ? "--calibrate" : "--scale-search";
    }

    private Imatrix load(Path model, boolean forPeople) throws IOException {
        if (imatrix != null && calibrate != null) throw new IllegalArgumentException("--imatrix and --calibrate: give one (an importance matrix, or the text to make one)");
        if (calibCtx < 1) throw new IllegalArgumentException("--calib-ctx must be positive, not " + calibCtx);
        Imatrix m;
        if (imatrix != null) {
            EvalInput.requireFile(imatrix, "--imatrix");
            m = ImatrixFile.read(imatrix);
        } else if (calibrate != null) {
            m = CalibrateCommand.calibrate(model, calibrate, new Calibrator.Options(calibCtx, 0, false, false), forPeople);
        } else return null;
        checkNames(model, m, imatrix != null ? imatrix : calibrate);
        return m;
    }

    /** Every entry of the matrix must name a weight of this model (else it was made for another model). */
    private static void checkNames(Path model, Imatrix m, Path source) {
        Set<String> names = new HashSet<>();
        try (Checkpoint ck = Checkpoint.open(model)) {
            for (Tensor t : ck.tensors()) names.add(LinearNames.gguf(t.name()));
        }
        List<String> unknown = m.names().stream().filter(n -> !names.contains(n)).toList();
        if (!unknown.isEmpty())
            throw new IllegalArgumentException(source + ": importance matrix for another model: " + unknown.size() + " of its " + m.names().size()
                    + " weights are not in " + model + " (e.g. " + unknown.getFirst() + ")");
    }

}
