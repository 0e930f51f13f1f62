package dev.lowbit.validate;

import dev.lowbit.formats.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Pre-tokenized ids: little-endian int32, as the reference eval_token_ids.i32 files. */
public final class TokenIds {
    private TokenIds() {}

    public static int[] read(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            if (b.length % 4 != 0) throw new FormatException(file, "length " + b.length + " is not a multiple of 4 (int32 ids)");
            int[] ids = new int[b.length / 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
            return ids;
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e.getMessage());
        }
    }
}
