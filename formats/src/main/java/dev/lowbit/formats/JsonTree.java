package dev.lowbit.formats;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON trees (Jackson's {@link JsonNode}) read and written with jackson-core's streaming parser and generator, giving
 * the trees and bytes {@code ObjectMapper.readTree} and {@code writerWithDefaultPrettyPrinter()} give (JsonTreeTest
 * compares them on every JSON file of the samples). ObjectMapper is kept off the paths every command takes: its
 * first use costs about 90 ms of a command's start (its static settings build a SimpleDateFormat, and reading a tree
 * goes through its deserializer machinery, all of it cold), against 60 ms for the streaming parse of an 82M model's
 * config.json, tokenizer_config.json and tokenizer.json together.
 */
public final class JsonTree {
    private JsonTree() {}

    /** As {@code new ObjectMapper()} reads: a repeated key keeps its first place and its last value; no NaN. */
    private static final JsonFactory PLAIN = new JsonFactory();
    /** safetensors headers and lowbit's own files: a repeated key is an error ("Duplicate field 'x'"); NaN is read. */
    private static final JsonFactory STRICT = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** The tree of a JSON file, text or UTF-8 bytes; a {@link MissingNode} when empty. */
    public static JsonNode read(Path file) throws IOException { return parse(PLAIN.createParser(file.toFile())); }
    public static JsonNode read(String json) throws IOException { return parse(PLAIN.createParser(json)); }
    public static JsonNode read(byte[] json) throws IOException { return parse(PLAIN.createParser(json)); }

    /** As {@link #read(Path)}, refusing repeated keys and reading NaN and Infinity. */
    public static JsonNode readStrict(Path file) throws IOException { return parse(STRICT.createParser(file.toFile())); }
    public static JsonNode readStrict(String json) throws IOException { return parse(STRICT.createParser(json)); }
    public static JsonNode readStrict(byte[] json) throws IOException { return parse(STRICT.createParser(json)); }

    private static JsonNode parse(JsonParser parser) throws IOException {
        try (JsonParser p = parser) {
            return tree(p);
        }
    }

    /**
     * One loop over the tokens with the open objects and arrays on a stack: a recursive descent made C2 compile it
     * with itself inlined, 117 ms of compiling on a 1.1B model's tokenizer.json.
     */
    private static JsonNode tree(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) return MissingNode.getInstance();
        ArrayDeque<ContainerNode<?>> open = new ArrayDeque<>();
        JsonNode root = null;
        String key = null;
        while (true) {
            JsonNode v = t == JsonToken.START_OBJECT ? JsonNodeFactory.instance.objectNode()
                    : t == JsonToken.START_ARRAY ? JsonNodeFactory.instance.arrayNode() : scalar(p, t);
            ContainerNode<?> parent = open.peek();
            if (parent == null) root = v;
            else if (parent instanceof ObjectNode o) o.replace(key, v);
            else ((ArrayNode) parent).add(v);
            if (v instanceof ContainerNode<?> c) open.push(c);
            // the next value, past the ends of the objects and arrays that close first (keys read as ObjectMapper does)
            for (t = null; t == null && !open.isEmpty(); ) {
                if (open.peek() instanceof ObjectNode) {
                    key = p.nextFieldName();
                    if (key == null) open.pop();
                    else t = p.nextToken();
                } else if ((t = p.nextToken()) == JsonToken.END_ARRAY) {
                    open.pop();
                    t = null;
                } else if (t == null) {
                    throw new JsonEOFException(p, null, "Unexpected end-of-input in an array");
                }
            }
            if (t == null) return root;
        }
    }

    private static JsonNode scalar(JsonParser p, JsonToken t) throws IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (t) {
            case VALUE_STRING -> f.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> f.numberNode(p.getIntValue());
                case LONG -> f.numberNode(p.getLongValue());
                default -> f.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> f.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> f.booleanNode(true);
            case VALUE_FALSE -> f.booleanNode(false);
            case VALUE_NULL -> f.nullNode();
            default -> throw new IllegalStateException("unexpected JSON token " + t); // the parser ends objects and arrays
        };
    }

    /** Writes a tree pretty printed (Jackson's default pretty printer); the stream stays open. */
    public static void write(OutputStream out, JsonNode tree) throws IOException {
        try (JsonGenerator g = PLAIN.createGenerator(out)) {
            g.setPrettyPrinter(new DefaultPrettyPrinter());
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            write(g, tree);
        }
    }

    /** The tree on one line, as {@link JsonNode#toString()} writes it. */
    public static String compact(JsonNode tree) {
        StringWriter s = new StringWriter();
        try (JsonGenerator g = PLAIN.createGenerator(s)) {
            write(g, tree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s.toString();
    }

    private static void write(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.properties().iterator(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    g.writeFieldName(e.getKey());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode x : n) write(g, x);
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> g.writeNumber(n.intValue());
                    case LONG -> g.writeNumber(n.longValue());
                    case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
                    case FLOAT -> g.writeNumber(n.floatValue());
                    case DOUBLE -> g.writeNumber(n.doubleValue());
                    case BIG_DECIMAL -> g.writeNumber(n.decimalValue());
                }
            }
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL -> g.writeNull();
            default -> throw new IllegalArgumentException("no JSON for a " + n.getNodeType() + " node");
        }
    }
}
