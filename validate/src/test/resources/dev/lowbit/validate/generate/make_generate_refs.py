"""Reference token ids for lowbit's generation tests, made by transformers' own generate().

Run: python3 make_generate_refs.py /work/shared/samples > generate_refs.json
(transformers 5.18, torch 2.13 CPU). For each sample model the weights are loaded as saved and upcast to float32
(the samples' reference convention), the prompts are tokenized by the model's own tokenizer with its special tokens,
and generate() runs greedy (max_new_tokens=32) and beam search (num_beams=3, max_new_tokens=24, length_penalty 1,
early_stopping False: transformers' defaults), each with use_cache=True and use_cache=False (the script checks both
give the same ids). Output: per model, per prompt, the prompt ids and the generated ids (prompt excluded).
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "A drama critic is a person who",
    "The hacker wrote",
    "Never trust a computer",
]
MODELS = ["tiny-gpt2", "tiny-bloom", "tiny-llama"]


def main(root):
    torch.manual_seed(0)
    out = {"transformers": __import__("transformers").__version__, "torch": torch.__version__, "models": {}}
    for name in MODELS:
        tok = AutoTokenizer.from_pretrained(f"{root}/{name}")
        model = AutoModelForCausalLM.from_pretrained(f"{root}/{name}", dtype=torch.float32).eval()
        cases = []
        for p in PROMPTS:
            ids = tok(p, return_tensors="pt").input_ids
            n = ids.shape[1]
            case = {"prompt": p, "prompt_ids": ids[0].tolist()}
            for label, kw in [("greedy", dict(do_sample=False, num_beams=1, max_new_tokens=32)),
                              ("beam3", dict(do_sample=False, num_beams=3, max_new_tokens=24))]:
                got = []
                for cache in (True, False):
                    with torch.no_grad():
                        g = model.generate(ids, attention_mask=torch.ones_like(ids), use_cache=cache, **kw)
                    got.append(g[0, n:].tolist())
                assert got[0] == got[1], (name, p, label, got)
                case[label] = got[0]
            cases.append(case)
        out["models"][name] = cases
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
