"""ImageBind-Huge's text tower (SPEC §2 "Text tower") with upstream key names, and the SPEC §3
prompt-ensemble prototypes written to `text-prototypes.bin` [C, 2, E].

Forward: token embedding + pos_embed (1,77,W) → causal pre-norm blocks (no pre-LN) → the token
at argmax(token ids) (EOT has the largest id) → LayerNorm → Linear (no bias) → L2 normalise →
× clip(exp(log_logit_scale), max=100). The scale cancels in the prototypes (SPEC §2), but it is
applied so that the module matches upstream output for output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .clip_tokenizer import ClipTokenizer
from .imagebind_vision import LN_EPS, SimpleTransformer, strict_load

TEXT_PREFIXES = ('modality_preprocessors.text.', 'modality_trunks.text.', 'modality_heads.text.', 'modality_postprocessors.text.')

# SPEC §3, same order as src/vlm/class-names.ts (the TS test compares them).
TEMPLATES = ('a photo of a {}.', 'a photo of the {}.')
NORMAL_STATES = ('{}', 'flawless {}', 'perfect {}', 'unblemished {}', '{} without flaw', '{} without defect', '{} without damage')
ABNORMAL_STATES = ('damaged {}', 'broken {}', '{} with flaw', '{} with defect', '{} with damage')
PREBUILT_CLASS_NAMES = (
    'bottle', 'cable', 'capsule', 'carpet', 'grid', 'hazelnut', 'leather', 'metal nut', 'pill', 'screw',
    'tile', 'toothbrush', 'transistor', 'wood', 'zipper', 'object', 'candle', 'cashew', 'chewinggum',
    'fryum', 'macaroni', 'pcb', 'pipe fryum', 'macaroni1', 'macaroni2', 'pcb1', 'pcb2', 'pcb3', 'pcb4',
    'capsules',
)


@dataclass(frozen=True)
class TextConfig:
    width: int = 1024
    depth: int = 24
    heads: int = 16
    embed_dim: int = 1024
    context: int = 77
    vocab: int = 49408
    mlp_ratio: int = 4


FULL_TEXT = TextConfig()


def causal_mask(n: int, device: Any = None) -> torch.Tensor:
    """Additive mask, -inf above the diagonal (ImageBind build_causal_attention_mask)."""
    return torch.full((n, n), float('-inf'), device=device).triu_(1)


class TextPreprocessor(nn.Module):
    def __init__(self, cfg: TextConfig, device: Any = None):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab, cfg.width, device=device)
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.context, cfg.width, device=device))
        # [inferred] a persistent buffer upstream, hence a state-dict key; strict load checks it.
        self.register_buffer('mask', causal_mask(cfg.context, device))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.token_embedding(ids) + self.pos_embed[:, :ids.shape[1]]


class SelectEOSAndProject(nn.Module):
    def __init__(self, cfg: TextConfig, device: Any = None):
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(cfg.width, eps=LN_EPS, device=device), nn.Linear(cfg.width, cfg.embed_dim, bias=False, device=device))

    def forward(self, x: torch.Tensor, eos_idx: torch.Tensor) -> torch.Tensor:
        return self.proj(x[torch.arange(x.shape[0]), eos_idx])


class LearnableLogitScaling(nn.Module):
    def __init__(self, init: float = 1 / 0.07, max_scale: float = 100.0, device: Any = None):
        super().__init__()
        self.max_scale = max_scale
        self.log_logit_scale = nn.Parameter(torch.full((), math.log(init), device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clip(self.log_logit_scale.exp(), max=self.max_scale) * x


class Normalize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1, p=2)


class ImageBindText(nn.Module):
    def __init__(self, cfg: TextConfig = FULL_TEXT, device: Any = None):
        super().__init__()
        self.cfg = cfg
        self.modality_preprocessors = nn.ModuleDict({'text': TextPreprocessor(cfg, device)})
        self.modality_trunks = nn.ModuleDict({'text': SimpleTransformer(cfg.width, cfg.depth, cfg.heads, cfg.mlp_ratio, False, device)})
        self.modality_heads = nn.ModuleDict({'text': SelectEOSAndProject(cfg, device)})
        self.modality_postprocessors = nn.ModuleDict({'text': nn.Sequential(Normalize(), LearnableLogitScaling(device=device))})

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, L ≤ context) int64 → (B, E), norm = logit scale. L < context is exact when only
        padding is cut: with the causal mask, the EOT position never attends to later tokens."""
        pre = self.modality_preprocessors['text']
        L = ids.shape[1]
        x, _ = self.modality_trunks['text'](pre(ids), (), pre.mask[:L, :L])
        return self.modality_postprocessors['text'](self.modality_heads['text'](x, ids.argmax(dim=-1)))


def expected_text_keys(cfg: TextConfig = FULL_TEXT) -> dict[str, tuple[tuple[int, ...], str]]:
    """key → (shape, note); a non-empty note marks an [inferred] name."""
    W, E, M = cfg.width, cfg.embed_dim, cfg.mlp_ratio * cfg.width
    pre, trunk, head, post = TEXT_PREFIXES
    keys: dict[str, tuple[tuple[int, ...], str]] = {
        f'{pre}token_embedding.weight': ((cfg.vocab, W), ''),
        f'{pre}pos_embed': ((1, cfg.context, W), ''),
        f'{pre}mask': ((cfg.context, cfg.context), '[inferred] persistent causal-mask buffer'),
    }
    # No pre-LN for text: pre_transformer_layer.0 is an Identity, so it has no keys.
    for i in range(cfg.depth):
        b = f'{trunk}blocks.{i}.'
        for n, s in (('attn.in_proj_weight', (3 * W, W)), ('attn.in_proj_bias', (3 * W,)), ('attn.out_proj.weight', (W, W)), ('attn.out_proj.bias', (W,)),
                     ('norm_1.weight', (W,)), ('norm_1.bias', (W,)), ('mlp.fc1.weight', (M, W)), ('mlp.fc1.bias', (M,)),
                     ('mlp.fc2.weight', (W, M)), ('mlp.fc2.bias', (W,)), ('norm_2.weight', (W,)), ('norm_2.bias', (W,))):
            keys[b + n] = (s, '')
    keys[f'{head}proj.0.weight'] = ((W,), '[inferred] SelectEOSAndProject.proj index 0 (LayerNorm)')
    keys[f'{head}proj.0.bias'] = ((W,), '[inferred] SelectEOSAndProject.proj index 0 (LayerNorm)')
    keys[f'{head}proj.1.weight'] = ((E, W), '[inferred] SelectEOSAndProject.proj index 1 (Linear, no bias)')
    keys[f'{post}1.log_logit_scale'] = ((), '[inferred] postprocessor Sequential(Normalize, LearnableLogitScaling) index 1')
    return keys


def load_imagebind_text(path_or_state: str | Mapping[str, torch.Tensor], cfg: TextConfig = FULL_TEXT) -> ImageBindText:
    state = torch.load(path_or_state, map_location='cpu') if isinstance(path_or_state, str) else path_or_state
    model = ImageBindText(cfg)
    strict_load(model, {k: v for k, v in state.items() if k.startswith(TEXT_PREFIXES)}, 'ImageBind text tower')
    return model.eval()


def prototype_sentences(name: str) -> tuple[list[str], list[str]]:
    """14 normal and 10 abnormal sentences, for each state then each template (SPEC §3)."""
    def build(states: Sequence[str]) -> list[str]:
        return [t.replace('{}', s.replace('{}', name)) for s in states for t in TEMPLATES]
    return build(NORMAL_STATES), build(ABNORMAL_STATES)


def canonical_class(name: str) -> str:
    """As class-names.ts canonicalPartName: trim, lower case, '_' → ' ', whitespace collapsed."""
    return ' '.join(name.strip().lower().replace('_', ' ').split())


@torch.no_grad()
def class_prototypes(model: ImageBindText, tok: ClipTokenizer, name: str) -> torch.Tensor:
    """(2, E) [normal, abnormal]: mean of the L2-normalised sentence embeddings, re-normalised."""
    rows = []
    for group in prototype_sentences(name):
        ids = tok.batch(group, model.cfg.context)
        ids = ids[:, :int(ids.argmax(dim=-1).max()) + 1]  # drop all-padding columns (exact, see forward)
        emb = model(ids.to(next(model.parameters()).device)).float().cpu()
        emb = emb / emb.norm(dim=-1, keepdim=True)
        mean = emb.mean(dim=0)
        rows.append(mean / mean.norm())
    return torch.stack(rows)


def class_list(extra: Sequence[str] = ()) -> list[str]:
    """The seed's prebuilt names, then canonical extras not already present (row order of the file)."""
    out = list(PREBUILT_CLASS_NAMES)
    for n in extra:
        c = canonical_class(n)
        if c and c not in out:
            out.append(c)
    return out


@torch.no_grad()
def prototype_table(model: ImageBindText, tok: ClipTokenizer, classes: Sequence[str], device: str = 'cpu') -> torch.Tensor:
    """(C, 2, E) float32, rows in `classes` order. At full size the text tower costs ~45 s per
    class on one CPU core here (24 sentences); `device='cuda'` runs it on a GPU (fp32)."""
    model.to(device)
    try:
        return torch.stack([class_prototypes(model, tok, c) for c in classes]).float()
    finally:
        model.to('cpu')
