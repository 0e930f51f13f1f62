package dev.lowbit.cli;

import dev.lowbit.quantizers.lora.LoraAdapter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** --lora ADAPTER[:WEIGHT], repeatable: PEFT LoRA adapters merged into the base in float32 before anything else. */
final class LoraOptions {
    @Option(names = "--lora", paramLabel = "ADAPTER[:WEIGHT]",
            description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) merged into the base first, "
                    + "W + weight·(α/r)·B·A; repeatable; WEIGHT defaults to 1.")
    List<String> specs = new ArrayList<>();

    List<LoraAdapter> adapters() {
        List<LoraAdapter> out = new ArrayList<>();
        for (String s : specs) {
            int colon = s.lastIndexOf(':');
            double weight = 1;
            String path = s;
            if (colon > 0) {
                try {
                    weight = Double.parseDouble(s.substring(colon + 1));
                    path = s.substring(0, colon);
                } catch (NumberFormatException e) {
                    // no weight: the colon belongs to the path
                }
            }
            if (!Double.isFinite(weight)) throw new IllegalArgumentException("--lora " + s + ": the weight must be a finite number");
            out.add(LoraAdapter.read(Path.of(path), weight));
        }
        return out;
    }
}
