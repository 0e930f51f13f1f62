package dev.lowbit.cli;

import dev.lowbit.kernels.Kernels;
import picocli.CommandLine.IVersionProvider;

/** `lowbit --version`: lowbit's version and commit, the JDK, and the SIMD backend the kernels chose. */
final class Version implements IVersionProvider {
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }

    /** The commit the launcher found (git describe), or "unknown" when run from a bare jar. */
    static String commit() {
        String c = System.getProperty("lowbit.commit", System.getenv("LOWBIT_COMMIT"));
        return c == null || c.isBlank() ? "unknown" : c;
    }

    static String simd() {
        String backend = Kernels.ops().getClass().getSimpleName();
        try {
            Class<?> fv = Class.forName("jdk.incubator.vector.FloatVector");
            Object species = fv.getField("SPECIES_PREFERRED").get(null);
            int bits = (int) Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize").invoke(species);
            return backend + " (Vector API, " + bits + "-bit vectors)";
        } catch (ReflectiveOperationException | LinkageError e) {
            return backend + " (Vector API unavailable: scalar loops)";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"lowbit " + version() + " (commit " + commit() + ")",
                "JDK " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ", " + System.getProperty("os.arch") + ")",
                "kernels " + simd() + ", " + Kernels.threads() + " threads"};
    }
}
