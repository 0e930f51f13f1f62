package dev.lowbit.validate;

import dev.lowbit.formats.AtomicFiles;
import dev.lowbit.validate.tokenizer.Tokenizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * tokens.arrow: an Apache Arrow IPC file, one row per scored token, readable by pyarrow, pandas, polars and duckdb.
 * token_text is the vocabulary piece (null when the model folder has no tokenizer.json).
 */
public final class TokensArrow {
    private TokensArrow() {}

    /**
     * tokens.csv.gz: the same rows as gzip-compressed CSV with a header, for tools without an Arrow reader: duckdb
     * reads it with no extension (SELECT * FROM 'tokens.csv.gz'), as do pandas, polars and spreadsheets.
     */
    public static void writeCsv(Path file, Drift.Tokens t, Tokenizer tok) throws IOException {
        AtomicFiles.write(file, raw -> {
            var gz = new GZIPOutputStream(raw, 1 << 16);
            var w = new BufferedWriter(new OutputStreamWriter(gz, StandardCharsets.UTF_8), 1 << 16);
            w.write("chunk,position,token_id,token_text,nll_base,nll_candidate,kld,p_base,p_candidate,top1_base,top1_candidate\n");
            for (int k = 0; k < t.size(); k++) {
                String text = tok == null ? null : tok.token(t.target()[k]);
                w.write(t.chunk()[k] + "," + t.position()[k] + "," + t.target()[k] + "," + (text == null ? "" : "\"" + text.replace("\"", "\"\"") + "\"")
                        + "," + t.nllBase()[k] + "," + t.nllCand()[k] + "," + t.kld()[k] + "," + t.pBase()[k] + "," + t.pCand()[k] + ","
                        + t.top1Base()[k] + "," + t.top1Cand()[k] + "\n");
            }
            w.flush();
            gz.finish();
        });
    }

    static final int BATCH = 1 << 16;
    private static final ArrowType INT = new ArrowType.Int(32, true), DOUBLE = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);

    public static final Schema SCHEMA = new Schema(List.of(
            Field.notNullable("chunk", INT), Field.notNullable("position", INT), Field.notNullable("token_id", INT),
            Field.nullable("token_text", ArrowType.Utf8.INSTANCE), Field.notNullable("nll_base", DOUBLE),
            Field.notNullable("nll_candidate", DOUBLE), Field.notNullable("kld", DOUBLE), Field.notNullable("p_base", DOUBLE),
            Field.notNullable("p_candidate", DOUBLE), Field.notNullable("top1_base", INT), Field.notNullable("top1_candidate", INT)));

    /** Units and provenance in the schema's metadata, which pyarrow and polars show (schema.metadata). */
    public static Map<String, String> metadata(String base, String candidate, int ctx) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("lowbit.schema", "lowbit-tokens/1");
        m.put("lowbit.base", base);
        m.put("lowbit.candidate", candidate);
        m.put("lowbit.ctx", Integer.toString(ctx));
        m.put("lowbit.units", "nll_* and kld in nats (natural log); p_* are probabilities in [0, 1]; position is the index in its chunk of the "
                + "predicted token (1..ctx-1); token_id is that token; top1_* are the argmax token ids");
        return m;
    }

    public static void write(Path file, Drift.Tokens t, Tokenizer tok) throws IOException {
        write(file, t, tok, Map.of());
    }

    public static void write(Path file, Drift.Tokens t, Tokenizer tok, Map<String, String> metadata) throws IOException {
        Schema schema = new Schema(SCHEMA.getFields(), metadata);
        AtomicFiles.write(file, out -> {
            try (BufferAllocator alloc = new RootAllocator(); VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc);
                 ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                w.start();
                for (int from = 0; from < t.size(); from += BATCH) {
                    int n = Math.min(BATCH, t.size() - from);
                    root.allocateNew();
                    for (int i = 0; i < n; i++) {
                        int k = from + i;
                        ((IntVector) root.getVector("chunk")).setSafe(i, t.chunk()[k]);
                        ((IntVector) root.getVector("position")).setSafe(i, t.position()[k]);
                        ((IntVector) root.getVector("token_id")).setSafe(i, t.target()[k]);
                        String text = tok == null ? null : tok.token(t.target()[k]);
                        if (text == null) ((VarCharVector) root.getVector("token_text")).setNull(i);
                        else ((VarCharVector) root.getVector("token_text")).setSafe(i, text.getBytes(StandardCharsets.UTF_8));
                        ((Float8Vector) root.getVector("nll_base")).setSafe(i, t.nllBase()[k]);
                        ((Float8Vector) root.getVector("nll_candidate")).setSafe(i, t.nllCand()[k]);
                        ((Float8Vector) root.getVector("kld")).setSafe(i, t.kld()[k]);
                        ((Float8Vector) root.getVector("p_base")).setSafe(i, t.pBase()[k]);
                        ((Float8Vector) root.getVector("p_candidate")).setSafe(i, t.pCand()[k]);
                        ((IntVector) root.getVector("top1_base")).setSafe(i, t.top1Base()[k]);
                        ((IntVector) root.getVector("top1_candidate")).setSafe(i, t.top1Cand()[k]);
                    }
                    root.setRowCount(n);
                    w.writeBatch();
                }
                w.end();
            }
        });
    }
}
