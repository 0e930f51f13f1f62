# Reference for CalibratorTest: transformers' LlamaForCausalLM (float32) over the first 4 chunks of 128 tokens of
# calib_text.txt tokenized with BOS, each chunk's first token set to BOS (llama-imatrix's chunking); sum of x^2 per
# input column of every linear layer in the blocks, by forward pre-hooks. Run: python3 ref_imatrix.py OUT.json
import json, sys, torch
from transformers import AutoTokenizer, AutoModelForCausalLM
d='/work/shared/samples/tiny-llama'
tok=AutoTokenizer.from_pretrained(d); m=AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
ids=tok(open('/work/shared/samples/calib_text.txt').read()).input_ids
ctx, n = 128, 4
sums = {}
gg = {'self_attn.q_proj':'attn_q','self_attn.k_proj':'attn_k','self_attn.v_proj':'attn_v','self_attn.o_proj':'attn_output',
      'mlp.gate_proj':'ffn_gate','mlp.up_proj':'ffn_up','mlp.down_proj':'ffn_down'}
def hook(name):
    def f(mod, args):
        x = args[0].detach().double().reshape(-1, args[0].shape[-1])
        s = (x * x).sum(0)
        sums[name] = sums.get(name, 0) + s
    return f
for i, l in enumerate(m.model.layers):
    for k, g in gg.items():
        mod = l.get_submodule(k)
        mod.register_forward_pre_hook(hook(f'blk.{i}.{g}.weight'))
with torch.no_grad():
    for c in range(n):
        chunk = list(ids[c*ctx:(c+1)*ctx]); chunk[0] = tok.bos_token_id
        m(torch.tensor([chunk]))
out = {'ctx': ctx, 'chunks': n, 'bos': tok.bos_token_id, 'first_ids': ids[:8],
       'in_sum2': {k: [float('%.7g' % v) for v in s.tolist()] for k, s in sorted(sums.items())}}
json.dump(out, open(sys.argv[1], 'w'), separators=(',', ':'))
