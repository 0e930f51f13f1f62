package dev.lowbit.formats.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Byte positions of a well-formed GGUF file's fields, found by a walk independent of GgufFile: for mutation tests. */
final class GgufLayout {
    /** Offsets of one metadata entry: its key length, value type, and (arrays) element type, count and first element. */
    record Kv(long keyAt, long typeAt, long elemTypeAt, long countAt, long valueAt) {}

    /** Offsets of one tensor info. */
    record Info(long nameAt, long nDimsAt, long dimsAt, long typeAt, long offsetAt, int nDims) {}

    final Map<String, Kv> kvs = new LinkedHashMap<>();
    final Map<String, Info> infos = new LinkedHashMap<>();
    final long infosEnd;

    GgufLayout(byte[] f) {
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        long nT = b.getLong(8), nKv = b.getLong(16);
        int p = 24;
        for (long i = 0; i < nKv; i++) {
            int keyAt = p;
            int kl = (int) b.getLong(p);
            String key = new String(f, p + 8, kl, StandardCharsets.UTF_8);
            p += 8 + kl;
            int typeAt = p, type = b.getInt(p);
            p += 4;
            if (type == 9) {
                int et = b.getInt(p);
                long n = b.getLong(p + 4);
                kvs.put(key, new Kv(keyAt, typeAt, p, p + 4, p + 12));
                p += 12;
                for (long j = 0; j < n; j++) p = skip(b, p, et);
            } else {
                kvs.put(key, new Kv(keyAt, typeAt, -1, -1, p));
                p = skip(b, p, type);
            }
        }
        for (long i = 0; i < nT; i++) {
            int nameAt = p;
            int nl = (int) b.getLong(p);
            String name = new String(f, p + 8, nl, StandardCharsets.UTF_8);
            p += 8 + nl;
            int nd = b.getInt(p);
            infos.put(name, new Info(nameAt, p, p + 4, p + 4 + 8L * nd, p + 8 + 8L * nd, nd));
            p += 4 + 8 * nd + 4 + 8;
        }
        infosEnd = p;
    }

    private static int skip(ByteBuffer b, int p, int type) {
        return switch (type) {
            case 0, 1, 7 -> p + 1;
            case 2, 3 -> p + 2;
            case 4, 5, 6 -> p + 4;
            case 10, 11, 12 -> p + 8;
            case 8 -> p + 8 + (int) b.getLong(p);
            default -> throw new IllegalArgumentException("type " + type);
        };
    }
}
