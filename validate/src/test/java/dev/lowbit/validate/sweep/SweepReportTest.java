package dev.lowbit.validate.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quantizers.Layout;
import dev.lowbit.quantizers.Scheme;
import dev.lowbit.quantizers.gguf.GgufFileType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SweepReportTest {
    static Sweep.Row row(String name, double bits, double kld) {
        return new Sweep.Row(name, "lowbit", bits, 1000, 100, kld, 0.00001, 97, 80, 79, 1);
    }

    @Test
    void paretoFrontIsTheRowsNoOtherBeatsOnBothAxes() {
        Sweep.Row a = row("a", 4.50, 0.0013), b = row("b", 4.52, 0.0008), c = row("c", 4.34, 0.0008), d = row("d", 4.21, 0.00145),
                e = row("e", 4.50, 0.00145), f = row("f", 4.21, 0.00145);
        SweepReport r = new SweepReport(List.of(a, b, c, d, e, f), Map.of());
        // c (4.34, 0.0008) beats a, b and e; d and f tie each other at the fewest bits and are beaten by nobody
        assertFalse(r.onFront(a));
        assertFalse(r.onFront(b));
        assertTrue(r.onFront(c));
        assertTrue(r.onFront(d));
        assertFalse(r.onFront(e));
        assertTrue(r.onFront(f));
        String md = r.markdown();
        assertEquals(1 + 1 + 6, md.lines().filter(l -> l.startsWith("|")).count(), md);
        assertTrue(md.contains("| c | 4.34 |"), md);
        String html = r.html();
        assertTrue(html.contains("<polyline id=\"front\""), html);
        assertEquals(6, html.split("<circle").length - 1);
    }

    @Test
    void parsesSchemesAndTypes() {
        SweepRecipe nf4dq = SweepRecipe.parse("nf4+dq");
        assertEquals(Scheme.NF4, nf4dq.recipe().scheme());
        assertEquals(Layout.HF_BNB, nf4dq.recipe().layout());
        assertTrue(nf4dq.recipe().doubleQuant());
        assertEquals(Layout.LOWBIT, SweepRecipe.parse("int4").recipe().layout());
        SweepRecipe q = SweepRecipe.parse("iq4_nl+gptq");
        assertEquals(GgufFileType.IQ4_NL, q.gguf());
        assertTrue(q.gptq());
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("Q4_0+dq"));
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("int8+gptq"));
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("fp16"));
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("F16"));
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("nf5"));
        assertThrows(IllegalArgumentException.class, () -> SweepRecipe.parse("nf4+fast"));
    }
}
