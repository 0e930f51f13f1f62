package dev.lowbit.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * RoPE settings read from either transformers 5.x `rope_parameters` or 4.x `rope_theta` + `rope_scaling`.
 * Unset optional numbers are NaN (or 0 for originalMaxPositions) so that the defaults of transformers apply.
 */
public record Rope(String type, double theta, double factor, int originalMaxPositions, double attentionFactor,
                   double betaFast, double betaSlow, double lowFreqFactor, double highFreqFactor, double partialRotaryFactor) {

    public static Rope read(ObjectNode cfg) {
        JsonNode p = cfg.get("rope_parameters");
        JsonNode s = cfg.get("rope_scaling");
        JsonNode src = p != null && p.isObject() ? p : (s != null && s.isObject() ? s : null);
        double theta = num(p, "rope_theta", num(cfg, "rope_theta", 10000.0));
        String type = src == null ? "default" : text(src, "rope_type", text(src, "type", "default"));
        double partial = num(p, "partial_rotary_factor", num(cfg, "partial_rotary_factor", 1.0));
        return new Rope(type, theta, num(src, "factor", 1.0), (int) num(src, "original_max_position_embeddings", 0),
                num(src, "attention_factor", Double.NaN), num(src, "beta_fast", Double.NaN), num(src, "beta_slow", Double.NaN),
                num(src, "low_freq_factor", Double.NaN), num(src, "high_freq_factor", Double.NaN), partial);
    }

    private static double num(JsonNode n, String key, double dflt) {
        JsonNode v = n == null ? null : n.get(key);
        return v != null && v.isNumber() ? v.doubleValue() : dflt;
    }

    private static String text(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        return v != null && v.isTextual() ? v.textValue() : dflt;
    }
}
