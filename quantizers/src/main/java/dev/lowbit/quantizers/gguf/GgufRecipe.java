package dev.lowbit.quantizers.gguf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which ggml type each tensor gets: convert_hf_to_gguf.py's rule for the float outtypes (prepare_tensors), and
 * llama-quantize's recipes for the quantized file types (src/llama-quant.cpp: tensor_allows_quantization,
 * llama_tensor_get_type_impl, tensor_type_fallback, use_more_bits, the attn_v / ffn_down counters), without an
 * importance matrix and with llama-quantize's default options.
 */
public final class GgufRecipe {
    private GgufRecipe() {}

    /** The hyper-parameters the recipes look at. */
    public record Model(String arch, int nLayer, int nHead, int nHeadKv, int nExpert) {
        int nGqa() {
            return nHeadKv == 0 ? 0 : nHead / nHeadKv;
        }

        /** LLM_TYPE_70B, the one model size the recipes single out. */
        boolean is70B() {
            return arch.equals("llama") && nLayer == 80 && nHead != nHeadKv;
        }
    }

    /** A tensor by its GGUF name and ggml dims (ne[0] = row length). */
    public record TensorIn(String name, long[] ne) {}

    private static final Pattern BLK = Pattern.compile("^blk\\.(\\d+)\\.");

    /**
     * llama-quantize's tensor order (llama_model_loader's weight_name_comparer): tensors outside blocks first, then by
     * block number; by name (bytewise) within each.
     */
    public static final Comparator<String> QUANTIZE_ORDER = Comparator.<String>comparingInt(GgufRecipe::layerOf)
            .thenComparing(GgufRecipe::compareBytes);

    static int layerOf(String name) {
        Matcher m = BLK.matcher(name);
        if (!m.find()) return -1;
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    private static int compareBytes(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** ggml_n_dims: trailing dimensions of 1 do not count; at least 1. */
    static int nDims(long[] ne) {
        for (int i = ne.length - 1; i >= 1; i--) if (ne[i] > 1) return i + 1;
        return 1;
    }

    // ---------------------------------------------------------------- convert_hf_to_gguf.py (float outtypes)

    /**
     * The converter's type for a tensor of numpy rank nDims: F32 for 1-D tensors, norms, position embeddings and
     * anything not named *.weight; the outtype otherwise.
     */
    public static GgmlType converterType(GgufFileType ft, String name, int numpyDims) {
        if (!ft.byConverter()) throw new IllegalArgumentException(ft + " is not a converter outtype");
        if (numpyDims <= 1 || name.endsWith("_norm.weight")) return GgmlType.F32;
        if (name.equals("position_embd.weight") || name.equals("token_types.weight") || name.matches("blk\\.\\d+\\.ffn_gate_inp(_shexp)?\\.weight")
                || !(name.endsWith(".weight") || name.endsWith(".lora_a") || name.endsWith(".lora_b")))
            return GgmlType.F32;
        return ft.defaultType;
    }

    // ---------------------------------------------------------------- llama-quantize

    enum Category { TOKEN_EMBD, ATTENTION_Q, ATTENTION_V, ATTENTION_K, ATTENTION_QKV, ATTENTION_KV_B, ATTENTION_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OUTPUT, OTHER }

    static Category category(String name) {
        if (name.equals("output.weight")) return Category.OUTPUT;
        if (name.equals("token_embd.weight") || name.equals("per_layer_token_embd.weight")) return Category.TOKEN_EMBD;
        if (name.contains("attn_qkv.weight")) return Category.ATTENTION_QKV;
        if (name.contains("attn_kv_b.weight")) return Category.ATTENTION_KV_B;
        if (name.contains("attn_v.weight")) return Category.ATTENTION_V;
        if (name.contains("attn_k.weight")) return Category.ATTENTION_K;
        if (name.contains("attn_q.weight")) return Category.ATTENTION_Q;
        if (name.contains("attn_output.weight")) return Category.ATTENTION_OUTPUT;
        if (name.contains("ffn_up")) return Category.FFN_UP;
        if (name.contains("ffn_gate")) return Category.FFN_GATE;
        if (name.contains("ffn_down")) return Category.FFN_DOWN;
        return Category.OTHER;
    }

    static boolean isAttnV(Category c) {
        return c == Category.ATTENTION_V || c == Category.ATTENTION_QKV || c == Category.ATTENTION_KV_B;
    }

    private static final String[] NOT_QUANTIZED = {
        "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
        "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
        "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
        ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd"};

    /** tensor_allows_quantization with llama-quantize's defaults (the output tensor is quantized). */
    static boolean allowsQuantization(String name, long[] ne) {
        if (nDims(ne) < 2) return false;
        if (!name.endsWith("weight")) return false;
        if (name.contains("_norm.weight")) return false;
        if (name.equals("position_embd.weight") || name.equals("token_types.weight")) return false;
        for (String s : NOT_QUANTIZED) if (name.contains(s)) return false;
        return true;
    }

    private static final class State {
        int nAttentionWv, nFfnDown, nFfnGate, nFfnUp, iAttentionWv, iFfnDown, iFfnGate, iFfnUp, nFallback;
        boolean tiedEmbeddings = true;
    }

    private static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /**
     * The types llama-quantize picks, from an all-F32 input, for tensors given in its order ({@link #QUANTIZE_ORDER}):
     * tensors it may not quantize stay F32.
     */
    public static List<GgmlType> quantizeTypes(Model m, GgufFileType ft, List<TensorIn> tensors) {
        if (ft.byConverter()) throw new IllegalArgumentException(ft + " is made by the converter, not by llama-quantize");
        State qs = new State();
        for (TensorIn t : tensors) {
            Category c = category(t.name());
            if (isAttnV(c)) qs.nAttentionWv++;
            if (c == Category.OUTPUT) qs.tiedEmbeddings = false;
        }
        qs.nFfnDown = qs.nFfnGate = qs.nFfnUp = m.nLayer();
        List<GgmlType> out = new ArrayList<>(tensors.size());
        for (TensorIn t : tensors) {
            if (!allowsQuantization(t.name(), t.ne())) {
                out.add(GgmlType.F32);
                continue;
            }
            GgmlType type = impl(qs, m, ft.defaultType, t, ft, category(t.name()));
            out.add(fallback(qs, t, type));
        }
        return out;
    }

    /** tensor_type_fallback: a block-32 type when a row is not a multiple of the type's block. */
    static GgmlType fallback(Object qs, TensorIn t, GgmlType target) {
        long ncols = t.ne()[0];
        if (ncols % target.blockSize == 0) return target;
        if (qs instanceof State s) s.nFallback++;
        GgmlType r = switch (target) {
            case IQ4_XS -> GgmlType.IQ4_NL;
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("no tensor type fallback is defined for type " + target + " (" + t.name() + ")");
        };
        return ncols % r.blockSize != 0 ? GgmlType.F16 : r;
    }

    private static GgmlType impl(State qs, Model m, GgmlType newType, TensorIn t, GgufFileType ft, Category cat) {
        boolean falcon = m.arch().equals("falcon");
        int nExpert = Math.max(1, m.nExpert());
        if (cat == Category.OUTPUT || (qs.tiedEmbeddings && cat == Category.TOKEN_EMBD)) {
            long nx = t.ne()[0];
            if (falcon || nx % newType.blockSize != 0) newType = GgmlType.Q8_0;
            else if (newType != GgmlType.Q8_0) newType = GgmlType.Q6_K;
        } else if (cat == Category.TOKEN_EMBD) {
            // only the IQ1/IQ2/IQ3 and TQ file types change the token embedding
        } else if (isAttnV(cat)) {
            if (ft == GgufFileType.Q2_K) newType = m.nGqa() >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ft == GgufFileType.Q3_K_M) newType = qs.iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (ft == GgufFileType.Q3_K_L) newType = GgmlType.Q5_K;
            else if ((ft == GgufFileType.IQ4_NL || ft == GgufFileType.IQ4_XS) && m.nGqa() >= 4) newType = GgmlType.Q5_K;
            else if ((ft == GgufFileType.Q4_K_M || ft == GgufFileType.Q5_K_M) && useMoreBits(qs.iAttentionWv, qs.nAttentionWv)) newType = GgmlType.Q6_K;
            else if (ft == GgufFileType.Q4_K_S && qs.iAttentionWv < 4) newType = GgmlType.Q5_K;
            if (m.is70B() && (newType == GgmlType.Q3_K || newType == GgmlType.Q4_K)) newType = GgmlType.Q5_K;
            if (m.nExpert() == 8) newType = GgmlType.Q8_0;
            qs.iAttentionWv++;
        } else if (cat == Category.ATTENTION_K) {
            if (m.nExpert() == 8) newType = GgmlType.Q8_0;
        } else if (cat == Category.ATTENTION_Q) {
            // only the IQ3 file types change attn_q
        } else if (cat == Category.FFN_DOWN) {
            int iLayer = layer(qs.iFfnDown, qs.nFfnDown, t.name(), nExpert), nLayer = qs.nFfnDown;
            if (ft == GgufFileType.Q2_K) newType = GgmlType.Q3_K;
            else if (ft == GgufFileType.Q3_K_M)
                newType = iLayer < nLayer / 16 ? GgmlType.Q5_K : !falcon || useMoreBits(iLayer, nLayer) ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ft == GgufFileType.Q3_K_L) newType = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
            else if (ft == GgufFileType.Q4_K_M) {
                if (falcon) newType = iLayer < nLayer / 16 ? GgmlType.Q6_K : useMoreBits(iLayer, nLayer) ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (useMoreBits(iLayer, nLayer)) newType = GgmlType.Q6_K;
            } else if (iLayer < nLayer / 8 && (ft == GgufFileType.IQ4_NL || ft == GgufFileType.IQ4_XS)) newType = GgmlType.Q5_K;
            else if (ft == GgufFileType.Q5_K_M && useMoreBits(iLayer, nLayer)) newType = GgmlType.Q6_K;
            else if (ft == GgufFileType.Q4_K_S && !falcon && iLayer < nLayer / 8) newType = GgmlType.Q5_K;
            qs.iFfnDown++;
        } else if (cat == Category.ATTENTION_OUTPUT) {
            if (!falcon) {
                if (m.nExpert() == 8) {
                    if (ft == GgufFileType.Q2_K || ft == GgufFileType.Q3_K_S || ft == GgufFileType.Q3_K_M || ft == GgufFileType.IQ4_NL
                            || ft == GgufFileType.Q4_K_S || ft == GgufFileType.Q4_K_M || ft == GgufFileType.IQ4_XS) newType = GgmlType.Q5_K;
                } else {
                    if (ft == GgufFileType.Q2_K) newType = GgmlType.Q3_K;
                    else if (ft == GgufFileType.Q3_K_M) newType = GgmlType.Q4_K;
                    else if (ft == GgufFileType.Q3_K_L) newType = GgmlType.Q5_K;
                }
            } else if (ft == GgufFileType.Q3_K_L) newType = GgmlType.Q4_K;
        } else if (cat == Category.ATTENTION_QKV) {
            // unreachable: attn_qkv is attn_v-like and handled above (kept for parity with llama-quant.cpp)
            if (ft == GgufFileType.Q3_K_M || ft == GgufFileType.Q3_K_L) newType = GgmlType.Q4_K;
            else if (ft == GgufFileType.Q4_K_M) newType = GgmlType.Q5_K;
            else if (ft == GgufFileType.Q5_K_M) newType = GgmlType.Q6_K;
        } else if (cat == Category.FFN_GATE) {
            qs.iFfnGate++;
        } else if (cat == Category.FFN_UP) {
            qs.iFfnUp++;
        }
        return newType;
    }

    /** layer_info: the running counter, or for mixtures of experts the block number in the name. */
    private static int layer(int counter, int nLayer, String name, int nExpert) {
        if (nExpert <= 1) return counter;
        int l = layerOf(name);
        if (l < 0 || l >= nLayer) throw new IllegalArgumentException("bad layer for tensor " + name);
        return l;
    }
}
