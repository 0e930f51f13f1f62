package dev.lowbit.validate.model;

import dev.lowbit.kernels.Weights;
import java.util.IdentityHashMap;
import java.util.Map;

/** The linear weights of bound models under their GGUF names (blk.N.attn_q.weight …, output.weight), by identity. */
final class LinearWeights {
    private LinearWeights() {}

    static Map<Weights, String> of(ModelWeights w) {
        Map<Weights, String> m = new IdentityHashMap<>();
        Layer[] layers = w.layers();
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            String p = "blk." + i + ".";
            put(m, l.qkv(), p + "attn_qkv.weight");
            put(m, l.q(), p + "attn_q.weight");
            put(m, l.k(), p + "attn_k.weight");
            put(m, l.v(), p + "attn_v.weight");
            put(m, l.o(), p + "attn_output.weight");
            put(m, l.gate(), p + "ffn_gate.weight");
            put(m, l.up(), p + "ffn_up.weight");
            put(m, l.down(), p + "ffn_down.weight");
        }
        m.putIfAbsent(w.lmHead(), "output.weight");
        return m;
    }

    private static void put(Map<Weights, String> m, Weights w, String name) {
        if (w != null) m.put(w, name);
    }
}
