package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.samples.Samples;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * `lowbit demo` runs from the CLI jar, where JUnit is absent: Samples must link without opentest4j (it once did not, and
 * `lowbit demo` died with NoClassDefFoundError while the in-process tests, which have JUnit, passed).
 */
class SamplesWithoutJUnitTest {
    @Test
    void samplesLinksWithoutTestLibraries() throws Exception {
        URL samplesClasses = Samples.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader bare = new URLClassLoader(new URL[] {samplesClasses}, ClassLoader.getPlatformClassLoader())) {
            assertThrows(ClassNotFoundException.class, () -> bare.loadClass("org.opentest4j.TestAbortedException"), "the loader really lacks JUnit");
            Class<?> s = bare.loadClass(Samples.class.getName());
            assertTrue(s.getClassLoader() == bare, "Samples loaded from its own classes, not the test class path");
            Path model = (Path) s.getMethod("tinyLlama").invoke(null);
            assertEquals(Samples.tinyLlama(), model);
            assertTrue(Files.isRegularFile(model.resolve("config.json")));
        }
    }
}
