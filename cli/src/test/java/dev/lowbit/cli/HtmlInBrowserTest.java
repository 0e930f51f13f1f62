package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lowbit.samples.Samples;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html as a reviewer sees it: rendered by headless Chromium (Debian's chromium package). Skips with a message
 * when no chromium is installed (.ci/run installs it when it can).
 */
class HtmlInBrowserTest {
    @TempDir
    Path tmp;

    static Optional<Path> chromium() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome", "chrome"))
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return Optional.of(p);
            }
        return Optional.empty();
    }

    List<String> command(Path chromium, String... more) {
        List<String> c = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + tmp.resolve("profile")));
        c.addAll(List.of(more));
        return c;
    }

    String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("chromium.log").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("chromium.log")));
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void reportRendersWithVerdictFirstAndTitledAxes() throws Exception {
        Optional<Path> chromium = chromium();
        assumeTrue(chromium.isPresent(), "chromium not installed (apt-get install -y chromium): report.html not rendered");
        Path q = tmp.resolve("q"), rep = tmp.resolve("rep");
        assertEquals(0, CliRun.of("-q", "quantize", Samples.tinyLlama().toString(), "-o", q.toString(), "--scheme", "int4").code());
        CliRun v = CliRun.of("validate", Samples.tinyLlama().toString(), q.toString(), "--text", Samples.evalTextHead().toString(), "--ctx", "64",
                "--max-chunks", "6", "--max-ppl-drift", "0.001", "--report", rep.toString());
        assertEquals(1, v.code(), v.err());
        String url = rep.resolve("report.html").toUri().toString();
        String dom = run(command(chromium.get(), "--dump-dom", url));
        assertTrue(dom.contains("id=\"verdict\" class=\"verdict fail\">FAIL<"), "the verdict leads the page");
        assertTrue(dom.indexOf("id=\"verdict\"") < dom.indexOf("<table"), "verdict before the numbers");
        assertTrue(dom.contains("ppl drift") && dom.contains("≤ 0.001%"), "the threshold as typed");
        Matcher svgs = Pattern.compile("<svg[^>]*>(.*?)</svg>", Pattern.DOTALL).matcher(dom);
        int plots = 0;
        while (svgs.find()) {
            String svg = svgs.group(1);
            if (svg.contains("axis-x")) {
                plots++;
                assertTrue(svg.contains("axis-y"), "both axis titles");
            }
        }
        assertEquals(4, plots, "Δppl per chunk, KLD per chunk, KLD and Δp distributions, each with titled axes");
        assertTrue(dom.contains("percentage points") && dom.contains("nats"), "units");
        int section = dom.indexOf("id=\"continuations\""), boxes = dom.split("class=\"cont\"", -1).length - 1;
        assertTrue(section > 0, "the continuations section");
        assertEquals(4, boxes, "one side-by-side box per prompt (the first 4 lines of the eval text)");
        assertTrue(dom.substring(section).contains("<b>base</b>") && dom.substring(section).contains("<b>candidate</b>"), "base and candidate side by side");
        assertTrue(dom.contains("First differing token, mean over 4 prompts"), "the mean first difference, at a glance");
        Path png = tmp.resolve("report.png");
        run(command(chromium.get(), "--window-size=820,2400", "--screenshot=" + png, url));
        assertTrue(Files.size(png) > 20_000, "a rendered page, not a blank one: " + Files.size(png) + " bytes");
    }
}
