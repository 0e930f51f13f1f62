package dev.lowbit.cli;

import dev.lowbit.formats.Inspection;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "inspect", description = "Show a model's architecture, parameter count, bytes per dtype and tensors.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "A model folder, a .safetensors file, a model.safetensors.index.json or a .gguf file.")
    Path model;

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Inspection r = Inspection.of(model);
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(r));
            return 0;
        }
        out.printf("model         %s%n", r.path());
        out.printf("architecture  %s%n", r.architecture());
        r.hyperParameters().forEach((k, v) -> out.printf("  %-28s %s%n", k, v));
        out.printf("parameters    %,d (%s)%n", r.parameters(), Units.count(r.parameters()));
        out.printf("files         %d, %s of tensor data%n", r.files(), Units.bytes(r.bytes()));
        r.bytesByDtype().forEach((d, b) -> out.printf("  %-6s      %s%n", d, Units.bytes(b)));
        int w = r.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(4);
        out.printf("%n%-" + w + "s  %-7s  %-16s  %s%n", "tensor", "dtype", "shape", "bytes");
        for (Inspection.Row t : r.tensors())
            out.printf("%-" + w + "s  %-7s  %-16s  %,d%n", t.name(), t.dtype(), Arrays.toString(t.shape()), t.bytes());
        return 0;
    }
}
