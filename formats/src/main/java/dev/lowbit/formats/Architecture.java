package dev.lowbit.formats;

import java.util.Locale;

/** The architectures lowbit runs, chosen from config.json's model_type (or architectures[0]). */
public enum Architecture {
    GPT2("gpt2", "GPT2LMHeadModel"),
    BLOOM("bloom", "BloomForCausalLM"),
    LLAMA("llama", "LlamaForCausalLM"),
    MISTRAL("mistral", "MistralForCausalLM"),
    QWEN2("qwen2", "Qwen2ForCausalLM");

    public final String modelType;
    public final String hfClass;

    Architecture(String modelType, String hfClass) {
        this.modelType = modelType;
        this.hfClass = hfClass;
    }

    /** Null when neither names a supported architecture. */
    public static Architecture of(String modelType, String hfClass) {
        for (Architecture a : values()) {
            if (a.modelType.equals(modelType == null ? null : modelType.toLowerCase(Locale.ROOT)) || a.hfClass.equals(hfClass)) return a;
        }
        return null;
    }

    public boolean usesRope() {
        return this == LLAMA || this == MISTRAL || this == QWEN2;
    }
}
