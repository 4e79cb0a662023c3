"""AnomalyGPT's trained heads and PandaGPT's llama_proj (SPEC §2, §3, §5, §8), with their
checkpoint key names, loaders, and the bundle writers:

  decoder.bin          raw LE float32: image_decoder.fc.{0..3}.weight [4,E,W] (nn.Linear (out,in)),
                       then the biases [4,E]  (src/vlm/bundle-reader.ts readDecoder)
  prompt-learner.onnx  `anomaly_map` [1,1,S,S] → `prompts` [1,18,H], 9 base prompts first
  llama-proj.onnx      `img_emb` [1,E] → `image_token` [1,1,H]
(names as src/vlm/vision.ts feeds and reads them).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .bundle_io import write_f32
from .imagebind_vision import CheckpointKeyError, strict_load

FULL_PL_CHANNELS = (4, 16, 64, 256, 1024)  # SPEC §5 meta_net widths before the 5×5 conv to H
DECODER_PREFIX = 'image_decoder.'
PROMPT_PREFIX = 'prompt_learner.'
PROJ_PREFIX = 'llama_proj.'
TEMPERATURE = 100.0  # SPEC §3: fixed, not ImageBind's learned scale


class LinearLayer(nn.Module):
    """AnomalyGPT image decoder: k independent Linear(W→E) with bias, one per tap (SPEC §3)."""

    def __init__(self, dim_in: int = 1280, dim_out: int = 1024, k: int = 4, device: Any = None):
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(dim_in, dim_out, device=device) for _ in range(k)])

    def forward(self, taps: torch.Tensor) -> torch.Tensor:
        """taps (4,B,P,W) → F (4,B,P,E)."""
        return torch.stack([fc(taps[i]) for i, fc in enumerate(self.fc)])


class PromptLearner(nn.Module):
    """SPEC §5: 5 × (3×3 conv pad 1, ReLU, MaxPool 2), 5×5 conv pad 0 → (B,H,3,3) → 9 tokens,
    after the 9 learned base prompts. Sequential indices 0,3,6,9,12,15 are the conv keys."""

    def __init__(self, dim_out: int = 4096, channels: Sequence[int] = FULL_PL_CHANNELS, dim_in: int = 1, device: Any = None):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = dim_in
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1, device=device), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        layers.append(nn.Conv2d(c_in, dim_out, 5, padding=0, device=device))
        self.meta_net = nn.Sequential(*layers)
        self.base_prompts = nn.Parameter(torch.zeros(9, dim_out, device=device))

    def forward(self, anomaly_map: torch.Tensor) -> torch.Tensor:
        b = anomaly_map.shape[0]
        y = self.meta_net(anomaly_map)  # (B,H,3,3) at S = 224
        y = y.reshape(b, y.shape[1], -1).transpose(1, 2)  # (B,9,H), positions row-major
        return torch.cat([self.base_prompts.unsqueeze(0).expand(b, -1, -1), y], dim=1)


class LlamaProjToken(nn.Module):
    """llama_proj on the unit-norm embedding, unsqueezed to one LLM token (SPEC §2)."""

    def __init__(self, proj: nn.Linear):
        super().__init__()
        self.proj = proj

    def forward(self, img_emb: torch.Tensor) -> torch.Tensor:
        return self.proj(img_emb).unsqueeze(1)


def _load(path_or_state: str | Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    state = torch.load(path_or_state, map_location='cpu') if isinstance(path_or_state, str) else path_or_state
    if not isinstance(state, Mapping):
        raise TypeError(f'{path_or_state}: not a state dict ({type(state).__name__})')
    return state


def _sub(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def load_anomalygpt_heads(path_or_state: str | Mapping[str, torch.Tensor], width: int = 1280, embed_dim: int = 1024,
                          hidden: int = 4096, channels: Sequence[int] = FULL_PL_CHANNELS) -> tuple[LinearLayer, PromptLearner]:
    """Decoder + prompt learner from `train_*/pytorch_model.pt` (fp16, SPEC §8), strict per prefix;
    other keys of the file (if any) are ignored, as the seed's strict=False load would."""
    state = _load(path_or_state)
    dec, pl = LinearLayer(width, embed_dim), PromptLearner(hidden, channels)
    for module, prefix in ((dec, DECODER_PREFIX), (pl, PROMPT_PREFIX)):
        sub = _sub(state, prefix)
        try:
            strict_load(module, sub, f'AnomalyGPT checkpoint, {prefix}*')
        except CheckpointKeyError as e:
            raise CheckpointKeyError(f'AnomalyGPT checkpoint, {prefix}*', [prefix + k for k in e.missing], [prefix + k for k in e.unexpected], e.mismatched) from None
    return dec.eval(), pl.eval()


def load_llama_proj(path_or_state: str | Mapping[str, torch.Tensor], embed_dim: int = 1024, hidden: int = 4096) -> nn.Linear:
    """PandaGPT delta (`pandagpt_7b_max_len_1024/pytorch_model.pt`): llama_proj.weight [H,E], .bias [H]."""
    state = _load(path_or_state)
    proj = nn.Linear(embed_dim, hidden)
    sub = _sub(state, PROJ_PREFIX)
    try:
        strict_load(proj, sub, 'PandaGPT delta, llama_proj.*')
    except CheckpointKeyError as e:
        raise CheckpointKeyError('PandaGPT delta, llama_proj.*', [PROJ_PREFIX + k for k in e.missing], [PROJ_PREFIX + k for k in e.unexpected], e.mismatched) from None
    return proj.eval()


def write_decoder_bin(dec: LinearLayer, path: str) -> int:
    weights = torch.stack([fc.weight.detach().float() for fc in dec.fc])  # [4,E,W]
    biases = torch.stack([fc.bias.detach().float() for fc in dec.fc])  # [4,E]
    return write_f32(path, weights, biases)


@torch.no_grad()
def unsupervised_map(dec: LinearLayer, taps: torch.Tensor, protos: torch.Tensor, size: int) -> torch.Tensor:
    """SPEC §3 exactly as the seed: per layer, F̂ = F/‖F‖, z = 100·F̂·[t_n, t_a]ᵀ, (B,2,g,g),
    bilinear align_corners up to `size`, softmax over the 2 channels after upsampling, keep
    channel 1, mean of the 4 layers → (B,1,size,size)."""
    maps = []
    for f in dec(taps):  # (B,P,E)
        f = f / f.norm(dim=-1, keepdim=True)
        z = TEMPERATURE * f @ protos.t()  # (B,P,2)
        b, p, c = z.shape
        g = int(round(p ** 0.5))
        z = z.permute(0, 2, 1).reshape(b, c, g, g)
        up = F.interpolate(z, size=(size, size), mode='bilinear', align_corners=True)
        maps.append(torch.softmax(up, dim=1)[:, 1:2])
    return torch.stack(maps).mean(dim=0)
