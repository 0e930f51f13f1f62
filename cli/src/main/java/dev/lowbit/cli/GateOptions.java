package dev.lowbit.cli;

import dev.lowbit.validate.Validation;
import picocli.CommandLine.Option;

/** The CI gates of validate and convert. */
final class GateOptions {
    @Option(names = "--max-ppl-drift", paramLabel = "PCT", description = "Fail when the candidate's ppl exceeds the base's by more than PCT percent.")
    Double maxPplDrift;

    @Option(names = "--max-kld", paramLabel = "X", description = "Fail when the mean KL divergence exceeds X.")
    Double maxKld;

    @Option(names = "--min-top1", paramLabel = "PCT", description = "Fail when fewer than PCT percent of tokens keep the base's top-1.")
    Double minTop1;

    Validation.Gates gates() {
        return new Validation.Gates(maxPplDrift, maxKld, minTop1);
    }
}
