"""PandaGPT's LoRA (SPEC §8: r = 32, alpha = 32, targets q/k/v/o_proj in every layer, scale
alpha/r = 1) merged into the Llama weights: W' = W + scale · B @ A, so the exported decoder needs
no side branch. The delta checkpoint is loaded by the seed with strict=False, which would hide a
key mismatch; here every expected pair must be found, or the merge fails listing what was seen.

Key names with peft 0.3.0 are presumably
  llama_model.base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_{A,B}.default.weight
[inferred, SPEC §8]. The matcher accepts any prefix before `layers.{i}.` and an optional
`.default` adapter name (older peft wrote `lora_A.weight`), and reports the prefixes it found.

CLI: python3 -m anomalygpt_export.lora_merge list DELTA.pt        (pairs, prefixes, adapters and other keys found)
     python3 -m anomalygpt_export.lora_merge make-random-delta OUT.pt --config JSON [--seed N] [--rank R]   (test fixture)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from typing import Any

import torch
from torch import nn

LORA_KEY = re.compile(r'^(?P<prefix>.*?)layers\.(?P<layer>\d+)\.self_attn\.(?P<proj>[qkvo])_proj'
                      r'\.lora_(?P<ab>[AB])(?P<adapter>\.[A-Za-z0-9_]+)?\.weight$')
PROJS = ('q', 'k', 'v', 'o')
PANDAGPT_PREFIX = 'llama_model.base_model.model.model.'


def load_delta(path: str) -> dict[str, torch.Tensor]:
    sd = torch.load(path, map_location='cpu')
    if isinstance(sd, dict) and 'state_dict' in sd and isinstance(sd['state_dict'], dict):
        sd = sd['state_dict']
    if not isinstance(sd, dict):
        raise ValueError(f'{path}: expected a state dict, got {type(sd).__name__}')
    return sd


def find_lora_pairs(delta: dict[str, torch.Tensor]) -> tuple[dict[tuple[int, str], dict[str, torch.Tensor]], dict[str, Any]]:
    """{(layer, proj): {'A': tensor, 'B': tensor}} plus a report of prefixes, adapters and other keys."""
    pairs: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    prefixes: Counter[str] = Counter()
    adapters: Counter[str] = Counter()
    other: list[str] = []
    dup: list[str] = []
    for k, v in delta.items():
        m = LORA_KEY.match(k)
        if not m:
            other.append(k)
            continue
        prefixes[m['prefix']] += 1
        adapters[(m['adapter'] or '').lstrip('.') or '(none)'] += 1
        slot = pairs.setdefault((int(m['layer']), m['proj']), {})
        if m['ab'] in slot:
            dup.append(k)
        slot[m['ab']] = v
    report = {'prefixes': dict(prefixes), 'adapters': dict(adapters), 'otherKeys': sorted(other), 'duplicates': dup}
    return pairs, report


def check_pairs(pairs, report, layers: int, rank: int | None, shapes: dict[str, tuple[int, int]]) -> int:
    """Every (layer, proj) has A [r, in] and B [out, r]; exactly 4 × layers × 2 keys, one prefix."""
    problems: list[str] = []
    expected = {(i, p) for i in range(layers) for p in PROJS}
    missing = sorted(expected - set(pairs))
    extra = sorted(set(pairs) - expected)
    if missing:
        problems.append(f'missing pairs ({len(missing)}): {missing[:8]}')
    if extra:
        problems.append(f'pairs beyond the model ({len(extra)}): {extra[:8]}')
    if len(report['prefixes']) > 1:
        problems.append(f'more than one key prefix: {report["prefixes"]}')
    if report['duplicates']:
        problems.append(f'duplicate keys (several adapters?): {report["duplicates"][:4]}')
    for (i, p), ab in sorted(pairs.items()):
        if set(ab) != {'A', 'B'}:
            problems.append(f'layer {i} {p}_proj has only lora_{"".join(ab)}')
            continue
        a, b = ab['A'], ab['B']
        out_f, in_f = shapes[p]
        r = a.shape[0]
        if tuple(a.shape) != (r, in_f) or tuple(b.shape) != (out_f, r) or (rank is not None and r != rank):
            problems.append(f'layer {i} {p}_proj: A {tuple(a.shape)}, B {tuple(b.shape)}; expected A [{rank or "r"}, {in_f}], B [{out_f}, {rank or "r"}]')
    n_keys = sum(len(ab) for ab in pairs.values())
    if n_keys != 4 * layers * 2:
        problems.append(f'{n_keys} LoRA keys matched, expected 4 × {layers} × 2 = {8 * layers}')
    if problems:
        raise ValueError('LoRA delta does not fit the model:\n  ' + '\n  '.join(problems)
                         + f'\n  prefixes seen: {report["prefixes"]}; adapters: {report["adapters"]}'
                         + f'\n  non-LoRA keys ({len(report["otherKeys"])}): {report["otherKeys"][:8]}')
    return n_keys


def _proj_shapes(model) -> dict[str, tuple[int, int]]:
    attn = model.model.layers[0].self_attn
    return {p: tuple(getattr(attn, f'{p}_proj').weight.shape) for p in PROJS}


def merge_lora_(model, delta: dict[str, torch.Tensor], *, rank: int | None = 32, alpha: float = 32.0) -> dict[str, Any]:
    """In place: W += (alpha / r) · B @ A for q, k, v, o of every layer (computed in float32).
    Returns the matched-key count, the prefixes seen, the non-LoRA keys (e.g. llama_proj) and two
    float64 checks per matrix: |W' − (W + s·B·A)| and |W'x − (Wx + s·B(Ax))| on random x."""
    layers = len(model.model.layers)
    pairs, report = find_lora_pairs(delta)
    n = check_pairs(pairs, report, layers, rank, _proj_shapes(model))
    scales = set()
    weight_err = matvec_err = 0.0
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for (i, p), ab in pairs.items():
            a, b = ab['A'].float(), ab['B'].float()
            scale = alpha / a.shape[0]
            scales.add(scale)
            w = getattr(model.model.layers[i].self_attn, f'{p}_proj').weight
            w0 = w.detach().double().clone()
            x = torch.randn(4, w.shape[1], generator=g, dtype=torch.float64)
            # What peft computes (base + side branch), in float64, before the weight changes.
            side = x @ w0.t() + scale * ((x @ a.double().t()) @ b.double().t())
            w.add_(scale * (b @ a))
            weight_err = max(weight_err, float((w.double() - (w0 + scale * torch.einsum('or,ri->oi', b.double(), a.double()))).abs().max()))
            matvec_err = max(matvec_err, float((x @ w.double().t() - side).abs().max()))
    return {'matchedKeys': n, 'pairs': len(pairs), 'scales': sorted(scales),
            'weightMaxAbsErr': weight_err, 'matvecMaxAbsErr': matvec_err,
            'prefixes': report['prefixes'], 'adapters': report['adapters'], 'otherKeys': report['otherKeys']}


class LoraLinear(nn.Module):
    """y = W x + scale · B (A x): LoRA as the side branch peft runs (eval mode, no dropout)."""

    def __init__(self, base: nn.Linear, a: torch.Tensor, b: torch.Tensor, scale: float):
        super().__init__()
        self.base = base
        self.a = nn.Parameter(a.float().clone(), requires_grad=False)
        self.b = nn.Parameter(b.float().clone(), requires_grad=False)
        self.scale = scale

    @property
    def weight(self) -> torch.Tensor:
        return self.base.weight

    def forward(self, x):
        return self.base(x) + self.scale * ((x @ self.a.t()) @ self.b.t())


def apply_lora_side_branch_(model, delta, *, rank: int | None = 32, alpha: float = 32.0) -> int:
    """Wraps q/k/v/o in LoraLinear (the unmerged reference of `merge_lora_`)."""
    pairs, report = find_lora_pairs(delta)
    n = check_pairs(pairs, report, len(model.model.layers), rank, _proj_shapes(model))
    for (i, p), ab in pairs.items():
        attn = model.model.layers[i].self_attn
        setattr(attn, f'{p}_proj', LoraLinear(getattr(attn, f'{p}_proj'), ab['A'], ab['B'], alpha / ab['A'].shape[0]))
    return n


def set_lora_scale_(model, scale: float) -> None:
    """Sets every LoraLinear's scale (0 turns the side branches off: the base model)."""
    for m in model.modules():
        if isinstance(m, LoraLinear):
            m.scale = scale


def random_delta(layers: int, hidden: int, q_out: int, kv_out: int, *, rank: int, seed: int,
                 dtype=torch.float16, prefix: str = PANDAGPT_PREFIX, proj_in: int = 1024) -> dict[str, torch.Tensor]:
    """A PandaGPT-shaped delta (peft key names, fp16 like the HF file, plus llama_proj) with a
    non-zero B (peft initialises B to 0, which would make the merge check vacuous)."""
    g = torch.Generator().manual_seed(seed)
    out = {'q': q_out, 'k': kv_out, 'v': kv_out, 'o': hidden}
    inp = {'q': hidden, 'k': hidden, 'v': hidden, 'o': q_out}
    sd: dict[str, torch.Tensor] = {}
    for i in range(layers):
        for p in PROJS:
            base = f'{prefix}layers.{i}.self_attn.{p}_proj'
            sd[f'{base}.lora_A.default.weight'] = (torch.randn(rank, inp[p], generator=g) / inp[p] ** 0.5).to(dtype)
            sd[f'{base}.lora_B.default.weight'] = (0.5 * torch.randn(out[p], rank, generator=g) / rank ** 0.5).to(dtype)
    sd['llama_proj.weight'] = torch.randn(hidden, proj_in, generator=g).to(dtype)
    sd['llama_proj.bias'] = torch.zeros(hidden).to(dtype)
    return sd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    mk = sub.add_parser('make-random-delta', help='write a random PandaGPT-shaped LoRA delta (tests)')
    mk.add_argument('out')
    mk.add_argument('--config', required=True, help='JSON with hidden, layers, heads[, kvHeads]')
    mk.add_argument('--seed', type=int, default=0)
    mk.add_argument('--rank', type=int, default=32)
    ls = sub.add_parser('list', help='list the LoRA pairs and other keys of a delta checkpoint')
    ls.add_argument('delta')
    a = ap.parse_args(argv)
    if a.cmd == 'make-random-delta':
        c = json.loads(a.config)
        heads, kv = c['heads'], c.get('kvHeads', c['heads'])
        hd = c['hidden'] // heads
        torch.save(random_delta(c['layers'], c['hidden'], heads * hd, kv * hd, rank=a.rank, seed=a.seed), a.out)
        return 0
    pairs, report = find_lora_pairs(load_delta(a.delta))
    print(json.dumps({'pairs': len(pairs), 'layers': sorted({i for i, _ in pairs}), **report}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
