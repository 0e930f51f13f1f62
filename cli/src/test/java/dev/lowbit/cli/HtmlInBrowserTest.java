package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lowbit.samples.Samples;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html as a reviewer sees it: rendered by headless Chromium (Debian's chromium package). Skips with a message
 * when no chromium is installed (.ci/run installs it when it can). The screenshot stays at cli/target/report-html/report.png.
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
        // The screenshot is kept for a person to look at: cli/target/report-html/report.png beside the report it shows.
        Path kept = Files.createDirectories(Path.of("target", "report-html"));
        Files.copy(rep.resolve("report.html"), kept.resolve("report.html"), StandardCopyOption.REPLACE_EXISTING);
        Path png = kept.resolve("report.png").toAbsolutePath();
        Files.deleteIfExists(png);
        run(command(chromium.get(), "--window-size=820,2400", "--screenshot=" + png, kept.resolve("report.html").toUri().toString()));
        assertTrue(Files.size(png) > 20_000, "a rendered page, not a blank one: " + Files.size(png) + " bytes");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(820, img.getWidth());
        assertTrue(verdictRedPixels(img, 0, 160) > 200, "the large red FAIL is in the first 160 pixels of the page");
        int inked = 0;
        for (int y = 400; y < img.getHeight(); y += 2)
            for (int x = 0; x < img.getWidth(); x += 2)
                if ((img.getRGB(x, y) & 0xffffff) != 0xffffff) inked++;
        assertTrue(inked > 5_000, "tables and plots drawn below the verdict: " + inked + " sampled non-white pixels");
    }

    /** Pixels close to the FAIL colour #b91c1c in rows [from, to). */
    static int verdictRedPixels(BufferedImage img, int from, int to) {
        int n = 0;
        for (int y = from; y < Math.min(to, img.getHeight()); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y), r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
                if (Math.abs(r - 0xb9) < 24 && Math.abs(g - 0x1c) < 24 && Math.abs(b - 0x1c) < 24) n++;
            }
        return n;
    }
}
