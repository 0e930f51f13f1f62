package dev.lowbit.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The --json output of the commands: indented JSON. */
final class Json {
    private Json() {}

    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static String pretty(Object value) throws JsonProcessingException {
        return PRETTY.writeValueAsString(value);
    }
}
