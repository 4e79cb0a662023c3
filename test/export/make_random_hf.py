"""Test fixture: a reduced "Vicuna folder" laid out like the real one (SPEC §8), so the
`vicuna_dir` path of export_llm.py runs without the 13.5 GB download:

  config.json                       HF LlamaConfig names (hidden_size, rms_norm_eps 1e-6, …)
  pytorch_model-0000{1,2}-of-00002.bin + pytorch_model.bin.index.json
                                    fp16 shards split by layer, with the rotary inv_freq buffers
                                    older transformers wrote (load_hf_weights must skip them)
  tokenizer.model                   the LLaMA-like SentencePiece model of sp_corpus.py
  added_tokens.json                 with --pad-token: {"[PAD]": V}, the embedding and lm_head grown
                                    by one row (their mean), as FastChat's v0 apply_delta leaves
                                    Vicuna v0 (32001 rows) [from memory, unverified]

The weights are llama_hf.init_random_(seed), which are fp16-exact, so this folder and
export_llm_bundle(random_config=…, seed=…) with the same tokenizer describe the same network
(plus the pad row with --pad-token).

  PYTHONPATH=export /usr/bin/python3 test/export/make_random_hf.py DIR --config JSON [--seed N] [--vocab V] [--pad-token]
"""
from __future__ import annotations

import argparse
import json
import os

import torch

from anomalygpt_export.llama_hf import LlamaConfig, LlamaForCausalLM, init_random_
from anomalygpt_export.sentencepiece_to_llama2c import load_processor
from anomalygpt_export.sp_corpus import train_llama_like


def make_random_hf(out_dir: str, dims: dict, *, seed: int = 0, vocab: int = 700, pad_token: bool = False) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    sp_bytes = train_llama_like(vocab)
    with open(os.path.join(out_dir, 'tokenizer.model'), 'wb') as f:
        f.write(sp_bytes)
    config = LlamaConfig.from_dict({**dims, 'vocab_size': load_processor(sp_bytes).get_piece_size()})
    model = LlamaForCausalLM(config)
    init_random_(model, seed)
    sd = {k: v.detach().half().clone() for k, v in model.state_dict().items()}
    vocab_size = config.vocab_size
    if pad_token:
        for k in ('model.embed_tokens.weight', 'lm_head.weight'):
            sd[k] = torch.cat([sd[k], sd[k].float().mean(0, keepdim=True).half()])
        with open(os.path.join(out_dir, 'added_tokens.json'), 'w', encoding='utf-8') as f:
            json.dump({'[PAD]': vocab_size}, f)
        vocab_size += 1
    hf = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'hidden_act': 'silu',
          'hidden_size': config.hidden_size, 'intermediate_size': config.intermediate_size,
          'num_hidden_layers': config.num_hidden_layers, 'num_attention_heads': config.num_attention_heads,
          'num_key_value_heads': config.num_key_value_heads,
          'vocab_size': vocab_size, 'max_position_embeddings': config.max_position_embeddings,
          'rms_norm_eps': config.rms_norm_eps, 'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 0,
          'torch_dtype': 'float16', 'tie_word_embeddings': False}
    with open(os.path.join(out_dir, 'config.json'), 'w', encoding='utf-8') as f:
        json.dump(hf, f, indent=1)
    for i in range(config.num_hidden_layers):
        sd[f'model.layers.{i}.self_attn.rotary_emb.inv_freq'] = model.rotary.inv_freq.clone()
    half = config.num_hidden_layers // 2
    names = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin']

    def shard_of(k: str) -> int:
        if k.startswith('model.layers.'):
            return 0 if int(k.split('.')[2]) < half else 1
        return 0 if k.startswith('model.embed_tokens') else 1

    weight_map = {k: names[shard_of(k)] for k in sd}
    for j, n in enumerate(names):
        torch.save({k: v for k, v in sd.items() if shard_of(k) == j}, os.path.join(out_dir, n))
    with open(os.path.join(out_dir, 'pytorch_model.bin.index.json'), 'w', encoding='utf-8') as f:
        json.dump({'metadata': {'total_size': sum(v.numel() * 2 for v in sd.values())}, 'weight_map': weight_map}, f, indent=1)
    return {'config': {**config.as_dict(), 'vocab_size': vocab_size}, 'tensors': len(sd), 'shards': names}


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--config', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--vocab', type=int, default=700)
    ap.add_argument('--pad-token', action='store_true')
    a = ap.parse_args()
    print(json.dumps(make_random_hf(a.out_dir, json.loads(a.config), seed=a.seed, vocab=a.vocab, pad_token=a.pad_token)))
