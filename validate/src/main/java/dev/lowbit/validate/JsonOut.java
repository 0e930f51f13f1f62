package dev.lowbit.validate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * lowbit's JSON convention, for report.json and every --json: snake_case keys, indented, and non-finite numbers as
 * null (an SNR of identical tensors is infinite; JSON has no Infinity).
 */
public final class JsonOut {
    private JsonOut() {}

    public static final ObjectMapper MAPPER = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public static String pretty(Object value) {
        JsonNode tree = finite(MAPPER.valueToTree(value));
        try {
            return MAPPER.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode finite(JsonNode n) {
        if (n.isFloatingPointNumber() && !Double.isFinite(n.doubleValue())) return NullNode.getInstance();
        if (n instanceof ObjectNode o) o.properties().forEach(e -> e.setValue(finite(e.getValue())));
        if (n instanceof ArrayNode a) for (int i = 0; i < a.size(); i++) a.set(i, finite(a.get(i)));
        return n;
    }
}
