package dev.lowbit.cli;

import dev.lowbit.validate.JsonOut;

/** The --json output of the commands: lowbit's one convention (snake_case keys, indented, non-finite numbers as null). */
final class Json {
    private Json() {}

    static String pretty(Object value) {
        return JsonOut.pretty(value);
    }
}
