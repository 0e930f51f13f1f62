package dev.lowbit.quantizers.calib;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GGUF name of a linear weight given its Hugging Face name (Llama/Mistral/Qwen2, GPT-2, BLOOM), as llama.cpp's
 * converter names it: importance matrices are keyed by GGUF names, so both spellings find the same statistics.
 */
public final class LinearNames {
    private LinearNames() {}

    private static final Pattern HF = Pattern.compile(
            "(?:model\\.|transformer\\.)?(?:layers|h)\\.(\\d+)\\.(self_attn\\.[qkvo]_proj|mlp\\.(?:gate|up|down)_proj|attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj"
                    + "|self_attention\\.query_key_value|self_attention\\.dense|mlp\\.dense_h_to_4h|mlp\\.dense_4h_to_h)\\.weight");

    /** The GGUF name of a linear weight; a name already in GGUF form (or unknown) is returned unchanged. */
    public static String gguf(String name) {
        if (name.equals("lm_head.weight")) return "output.weight";
        Matcher m = HF.matcher(name);
        if (!m.matches()) return name;
        String t = switch (m.group(2)) {
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj", "attn.c_proj", "self_attention.dense" -> "attn_output";
            case "attn.c_attn", "self_attention.query_key_value" -> "attn_qkv";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj", "mlp.c_fc", "mlp.dense_h_to_4h" -> "ffn_up";
            default -> "ffn_down"; // mlp.down_proj, mlp.c_proj, mlp.dense_4h_to_h
        };
        return "blk." + m.group(1) + "." + t + ".weight";
    }
}
