package dev.lowbit.cli;

import java.util.ArrayList;
import java.util.List;

/** Values offered by shell completion and listed in help. */
final class Candidates {
    private Candidates() {}

    static final class Schemes extends ArrayList<String> {
        Schemes() {
            super(List.of("fp16", "bf16", "int8", "int8-block", "int4", "int4-asym", "nf4", "fp4"));
        }
    }

    static final class Layouts extends ArrayList<String> {
        Layouts() {
            super(List.of("hf-bnb", "lowbit"));
        }
    }

    static final class ComputeDtypes extends ArrayList<String> {
        ComputeDtypes() {
            super(List.of("float16", "bfloat16", "float32"));
        }
    }

    static final class RopeLayouts extends ArrayList<String> {
        RopeLayouts() {
            super(RewriteOptions.LAYOUTS);
        }
    }

    static final class RopeScalings extends ArrayList<String> {
        RopeScalings() {
            super(RewriteOptions.SCALINGS);
        }
    }
}
