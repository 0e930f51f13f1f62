package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lowbit.samples.Samples;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class InspectCommandTest {
    static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        return out.toString();
    }

    @Test
    void jsonAgreesWithTheReferenceTensorList() throws Exception {
        var om = new ObjectMapper();
        JsonNode got = om.readTree(run("inspect", "--json", Samples.tinyLlama().toString()));
        JsonNode ref = om.readTree(Samples.tinyLlama().resolve("reference/tensors.json").toFile()).get("tensors");
        long params = 0;
        for (JsonNode t : ref) {
            long n = 1;
            for (JsonNode d : t.get("shape")) n *= d.asLong();
            params += n;
        }
        assertEquals("LlamaForCausalLM", got.get("architecture").asText());
        assertEquals(params, got.get("parameters").asLong());
        assertEquals(params * 2, got.get("bytes_by_dtype").get("BF16").asLong());
        assertEquals(ref.size(), got.get("tensors").size());
    }

    /** A quantized folder reports the logical parameter count of the original, whatever the layout. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"nf4:hf-bnb", "nf4:lowbit", "int8:hf-bnb", "int8:lowbit", "int4:lowbit", "int8-block:lowbit"})
    void quantizedFoldersCountLogicalParameters(String spec, @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        String[] p = spec.split(":");
        String out = tmp.resolve("q").toString();
        run("quantize", Samples.tinyLlama().toString(), "-o", out, "--scheme", p[0], "--layout", p[1], "--lm-head");
        var om = new ObjectMapper();
        long original = 0; // from transformers' tensor list, not from inspect itself
        for (JsonNode t : om.readTree(Samples.tinyLlama().resolve("reference/tensors.json").toFile()).get("tensors")) {
            long n = 1;
            for (JsonNode d : t.get("shape")) n *= d.asLong();
            original += n;
        }
        assertEquals(original, om.readTree(run("inspect", "--json", out)).get("parameters").asLong());
    }

    @Test
    void tableListsEveryTensor() {
        String text = run("inspect", Samples.tinyLlama().toString());
        assertTrue(text.contains("LlamaForCausalLM"));
        assertTrue(text.contains("model.layers.3.self_attn.v_proj.weight"));
        assertTrue(text.contains("[64, 256]"));
    }
}
