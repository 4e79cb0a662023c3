"""PyTorch reference outputs written next to an exported LLM bundle (`reference/`, not listed in
the manifest), so the TS side can check the ONNX decoder through the runtime that ships it
(test/export/llm-export.integration.test.ts):

  prefill_embeds.bin / prefill_logits.bin   random embeddings [1, S, H] at positions 0…S−1 → logits [1, S, V]
  step_embeds.bin / step_logits.bin         one more embedding at position S, fed with the cache → [1, 1, V]
  masked_logits.bin                         the prefill embeddings with attention_mask MASK and
                                            position_ids OFFSET…OFFSET+S−1 (padding ∧ causal, RoPE
                                            driven by position_ids, not by the cache index) → [1, S, V]
  reference.json                            shapes, and a greedy loop from token ids: prompt ids
                                            (BOS + SentencePiece ids) and the PyTorch greedy ids,
                                            with the smallest top-1/top-2 logit margin met on the way
All float files are raw little-endian float32, row-major.
"""
from __future__ import annotations

import os
from typing import Any

import torch

PREFILL = 7
MASK = [1, 1, 0, 1, 1, 1, 1]
OFFSET = 5
GREEDY_PROMPT = '### Human: Is there any anomaly in the image?\n### Assistant:'


def _f32(path: str, t: torch.Tensor) -> None:
    t.detach().cpu().float().numpy().astype('<f4').tofile(path)


@torch.no_grad()
def write_reference(model, embed_table: torch.Tensor, sp, out_dir: str, *, seed: int, greedy_steps: int = 12) -> dict[str, Any]:
    """`model` is the network the ONNX graph must reproduce (for a LoRA export: the unmerged base
    with LoRA side branches); `embed_table` [V, H] the table written to embeddings.bin."""
    os.makedirs(out_dir, exist_ok=True)
    c = model.config
    g = torch.Generator().manual_seed(seed + 1000)
    h = c.hidden_size
    x = torch.randn(1, PREFILL + 1, h, generator=g) * embed_table.std()
    pre, step = x[:, :PREFILL], x[:, PREFILL:]
    logits_p, cache = model(pre, torch.ones(1, PREFILL, dtype=torch.int64), torch.arange(PREFILL)[None], model.empty_cache())
    logits_s, _ = model(step, torch.ones(1, PREFILL + 1, dtype=torch.int64), torch.tensor([[PREFILL]]), cache)
    logits_m, _ = model(pre, torch.tensor([MASK]), torch.arange(OFFSET, OFFSET + PREFILL)[None], model.empty_cache())
    for name, t in (('prefill_embeds', pre), ('prefill_logits', logits_p), ('step_embeds', step), ('step_logits', logits_s),
                    ('masked_logits', logits_m)):
        _f32(os.path.join(out_dir, f'{name}.bin'), t)

    # Greedy from token ids through the embedding table, one cached position per step, as
    # src/vlm/llm/generator.ts does (no stop tokens: the loop runs greedy_steps times).
    prompt = [sp.bos_id()] + sp.encode(GREEDY_PROMPT)
    ids: list[int] = []
    margins: list[float] = []
    logits, cache = model(embed_table[prompt][None], torch.ones(1, len(prompt), dtype=torch.int64),
                          torch.arange(len(prompt))[None], model.empty_cache())
    pos = len(prompt)
    for _ in range(greedy_steps):
        last = logits[0, -1]
        top2 = torch.topk(last, 2).values
        margins.append(float(top2[0] - top2[1]))
        nxt = int(torch.argmax(last))
        ids.append(nxt)
        logits, cache = model(embed_table[[nxt]][None], torch.ones(1, pos + 1, dtype=torch.int64), torch.tensor([[pos]]), cache)
        pos += 1
    return {
        'prefill': {'length': PREFILL, 'embeds': 'prefill_embeds.bin', 'logits': 'prefill_logits.bin'},
        'step': {'position': PREFILL, 'embeds': 'step_embeds.bin', 'logits': 'step_logits.bin'},
        'masked': {'attentionMask': MASK, 'positionOffset': OFFSET, 'embeds': 'prefill_embeds.bin', 'logits': 'masked_logits.bin'},
        'hidden': h, 'vocabSize': c.vocab_size,
        'logitsAbsMax': float(max(logits_p.abs().max(), logits_s.abs().max())),
        'greedy': {'promptText': GREEDY_PROMPT, 'promptIds': prompt, 'ids': ids, 'minMargin': min(margins)},
    }


@torch.no_grad()
def max_abs_diff_forward(a, b, *, seed: int, length: int = 5) -> float:
    """Largest |logit difference| of two models on the same random embeddings (prefill)."""
    g = torch.Generator().manual_seed(seed + 2000)
    x = torch.randn(1, length, a.config.hidden_size, generator=g)
    mask, pos = torch.ones(1, length, dtype=torch.int64), torch.arange(length)[None]
    la, _ = a(x, mask, pos, a.empty_cache())
    lb, _ = b(x, mask, pos, b.empty_cache())
    return float((la - lb).abs().max())

