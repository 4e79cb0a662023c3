"""ImageBind-Huge's vision tower (SPEC §2) rebuilt in PyTorch with the upstream module nesting,
so that `state_dict()` key names equal those of `imagebind_huge.pth` under the vision prefixes,
plus the export wrapper behind `encoder.onnx` (`pixel` → `img_emb`, `taps`, as
src/vlm/vision.ts reads them).

Key provenance: the nesting (`rgbt_stem.proj` Sequential of PadIm2Video + Conv3d, the
`pos_embedding_helper`, `pre_transformer_layer` Sequential of LayerNorm + rearrange, the
BlockWithMasking attribute names, the head Sequential LayerNorm / SelectElement / Linear) follows
the ImageBind module definitions as described in SPEC §2 and models/anomalygpt/README.md.
Keys SPEC/README mark [inferred] (Sequential indices) are flagged by `expected_vision_keys`;
loading is strict, so a wrong guess fails loudly with the key lists instead of being skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

VISION_PREFIXES = ('modality_preprocessors.vision.', 'modality_trunks.vision.', 'modality_heads.vision.')
LN_EPS = 1e-6  # every ImageBind LayerNorm (SPEC §2)


@dataclass(frozen=True)
class VisionConfig:
    width: int = 1280
    depth: int = 32
    heads: int = 16
    embed_dim: int = 1024
    image_size: int = 224
    patch: int = 14
    # 0-based block indices whose outputs are the 4 taps (SPEC §2 out_layers).
    tap_blocks: tuple[int, int, int, int] = (7, 15, 23, 31)
    mlp_ratio: int = 4

    @property
    def grid(self) -> int:
        return self.image_size // self.patch

    @property
    def patches(self) -> int:
        return self.grid * self.grid


FULL_VISION = VisionConfig()


class CheckpointKeyError(KeyError):
    """A checkpoint whose keys do not match the module: lists what is missing / unexpected."""

    def __init__(self, what: str, missing: list[str], unexpected: list[str], mismatched: list[str] | None = None):
        lines = [f'{what}: checkpoint keys do not match the module (strict load)']
        if missing:
            lines.append(f'  missing ({len(missing)}): ' + ', '.join(missing[:40]) + (' …' if len(missing) > 40 else ''))
        if unexpected:
            lines.append(f'  unexpected ({len(unexpected)}): ' + ', '.join(unexpected[:40]) + (' …' if len(unexpected) > 40 else ''))
        if mismatched:
            lines.append(f'  shape mismatch ({len(mismatched)}): ' + ', '.join(mismatched[:40]))
        super().__init__('\n'.join(lines))
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched or []

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def strict_load(module: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """load_state_dict(strict=True), but with our own complete report before torch's."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in set(own) & set(state) if tuple(state[k].shape) != tuple(own[k].shape))
    if missing or unexpected or mismatched:
        raise CheckpointKeyError(what, missing, unexpected, mismatched)
    module.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)


# ---- modules named as upstream -------------------------------------------------------------
class PadIm2Video(nn.Module):
    """(B,3,H,W) → (B,3,ntimes,H,W), frames repeated (SPEC §2 stem)."""

    def __init__(self, ntimes: int = 2):
        super().__init__()
        self.ntimes = ntimes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(2).repeat(1, 1, self.ntimes, 1, 1)


class PatchEmbedGeneric(nn.Module):
    def __init__(self, proj_stem: list[nn.Module]):
        super().__init__()
        self.proj = nn.Sequential(*proj_stem)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, T·g·g, W), p = 16·row + col


class PosEmbeddingHelper(nn.Module):
    def __init__(self, tokens: int, width: int, device: Any = None):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, width, device=device))


class RGBDTPreprocessor(nn.Module):
    def __init__(self, cfg: VisionConfig, device: Any = None):
        super().__init__()
        k = (2, cfg.patch, cfg.patch)
        self.rgbt_stem = PatchEmbedGeneric([PadIm2Video(2), nn.Conv3d(3, cfg.width, kernel_size=k, stride=k, bias=False, device=device)])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.width, device=device))
        self.pos_embedding_helper = PosEmbeddingHelper(cfg.patches + 1, cfg.width, device)

    def forward(self, pixel: torch.Tensor) -> torch.Tensor:
        tokens = self.rgbt_stem(pixel)
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        return tokens + self.pos_embedding_helper.pos_embed


class Mlp(nn.Module):
    def __init__(self, width: int, hidden: int, device: Any = None):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden, device=device)
        self.act = nn.GELU()  # exact erf (SPEC §2)
        self.fc2 = nn.Linear(hidden, width, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class BlockWithMasking(nn.Module):
    """Pre-norm block on sequence-first (L,B,W): x += MHA(LN x); x += MLP(LN x) (SPEC §2)."""

    def __init__(self, width: int, heads: int, mlp_ratio: int, device: Any = None):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, bias=True, add_bias_kv=False, device=device)
        self.norm_1 = nn.LayerNorm(width, eps=LN_EPS, device=device)
        self.mlp = Mlp(width, mlp_ratio * width, device)
        self.norm_2 = nn.LayerNorm(width, eps=LN_EPS, device=device)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm_1(x)
        x = x + self.attn(h, h, h, attn_mask=attn_mask, need_weights=False)[0]
        return x + self.mlp(self.norm_2(x))


class SeqFirst(nn.Module):
    """EinOpsRearrange("b l d -> l b d") and back; no parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(0, 1)


class SimpleTransformer(nn.Module):
    def __init__(self, width: int, depth: int, heads: int, mlp_ratio: int, pre_ln: bool, device: Any = None):
        super().__init__()
        first = nn.LayerNorm(width, eps=LN_EPS, device=device) if pre_ln else nn.Identity()
        self.pre_transformer_layer = nn.Sequential(first, SeqFirst())
        self.blocks = nn.Sequential(*[BlockWithMasking(width, heads, mlp_ratio, device) for _ in range(depth)])
        self.post_transformer_layer = SeqFirst()

    def forward(self, tokens: torch.Tensor, taps: tuple[int, ...] = (), attn_mask: torch.Tensor | None = None):
        """tokens (B,L,W) → (B,L,W) and the listed blocks' outputs, raw, sequence-first (L,B,W)."""
        x = self.pre_transformer_layer(tokens)
        out = []
        for i, blk in enumerate(self.blocks):
            x = blk(x, attn_mask)
            if i in taps:
                out.append(x)
        return self.post_transformer_layer(x), out


class SelectElement(nn.Module):
    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index, ...]


class Normalize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1, p=2)


class ImageBindVision(nn.Module):
    """The vision modality of ImageBind (+ AnomalyGPT's tap outputs), keys as upstream."""

    def __init__(self, cfg: VisionConfig = FULL_VISION, device: Any = None):
        super().__init__()
        if len(cfg.tap_blocks) != 4 or max(cfg.tap_blocks) >= cfg.depth:
            raise ValueError(f'tap_blocks {cfg.tap_blocks} must be 4 block indices below depth {cfg.depth}')
        self.cfg = cfg
        self.modality_preprocessors = nn.ModuleDict({'vision': RGBDTPreprocessor(cfg, device)})
        self.modality_trunks = nn.ModuleDict({'vision': SimpleTransformer(cfg.width, cfg.depth, cfg.heads, cfg.mlp_ratio, True, device)})
        head = nn.Sequential(nn.LayerNorm(cfg.width, eps=LN_EPS, device=device), SelectElement(0), nn.Linear(cfg.width, cfg.embed_dim, bias=False, device=device))
        self.modality_heads = nn.ModuleDict({'vision': head})
        self.modality_postprocessors = nn.ModuleDict({'vision': Normalize()})

    def forward_tokens(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens after CLS + pos → (img_emb (B,E) unit norm, taps (4,B,P,W) CLS dropped)."""
        x, taps = self.modality_trunks['vision'](tokens, self.cfg.tap_blocks)
        emb = self.modality_postprocessors['vision'](self.modality_heads['vision'](x))
        # SPEC §2: consumer transposes each (L,B,W) tap to (B,L,W) and drops CLS.
        return emb, torch.stack([t.transpose(0, 1)[:, 1:, :] for t in taps])

    def forward(self, pixel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_tokens(self.modality_preprocessors['vision'](pixel))


def expected_vision_keys(cfg: VisionConfig = FULL_VISION) -> dict[str, tuple[tuple[int, ...], str]]:
    """key → (shape, note) for the vision tower; a non-empty note marks an [inferred] name."""
    W, E, M = cfg.width, cfg.embed_dim, cfg.mlp_ratio * cfg.width
    pre, trunk, head = VISION_PREFIXES
    keys: dict[str, tuple[tuple[int, ...], str]] = {
        # [inferred] index 1 of rgbt_stem.proj: PadIm2Video (index 0) holds no parameters.
        f'{pre}rgbt_stem.proj.1.weight': ((W, 3, 2, cfg.patch, cfg.patch), '[inferred] Sequential index 1 after PadIm2Video'),
        f'{pre}cls_token': ((1, 1, W), ''),
        f'{pre}pos_embedding_helper.pos_embed': ((1, cfg.patches + 1, W), ''),
        f'{trunk}pre_transformer_layer.0.weight': ((W,), ''),
        f'{trunk}pre_transformer_layer.0.bias': ((W,), ''),
    }
    for i in range(cfg.depth):
        b = f'{trunk}blocks.{i}.'
        keys.update({
            f'{b}attn.in_proj_weight': ((3 * W, W), ''), f'{b}attn.in_proj_bias': ((3 * W,), ''),
            f'{b}attn.out_proj.weight': ((W, W), ''), f'{b}attn.out_proj.bias': ((W,), ''),
            f'{b}norm_1.weight': ((W,), ''), f'{b}norm_1.bias': ((W,), ''),
            f'{b}mlp.fc1.weight': ((M, W), ''), f'{b}mlp.fc1.bias': ((M,), ''),
            f'{b}mlp.fc2.weight': ((W, M), ''), f'{b}mlp.fc2.bias': ((W,), ''),
            f'{b}norm_2.weight': ((W,), ''), f'{b}norm_2.bias': ((W,), ''),
        })
    # [inferred] head Sequential indices: LayerNorm (0), SelectElement (1, no params), Linear (2).
    keys[f'{head}0.weight'] = ((W,), '[inferred] head Sequential index 0 (LayerNorm)')
    keys[f'{head}0.bias'] = ((W,), '[inferred] head Sequential index 0 (LayerNorm)')
    keys[f'{head}2.weight'] = ((E, W), '[inferred] head Sequential index 2 (Linear, no bias)')
    return keys


def vision_state_from_checkpoint(ckpt: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The vision prefixes of a full multimodal ImageBind state dict (other modalities dropped)."""
    if 'model' in ckpt and not any(k.startswith(VISION_PREFIXES) for k in ckpt):
        ckpt = ckpt['model']  # tolerate a wrapped checkpoint
    return {k: v for k, v in ckpt.items() if k.startswith(VISION_PREFIXES)}


def load_imagebind_vision(path_or_state: str | Mapping[str, torch.Tensor], cfg: VisionConfig = FULL_VISION) -> ImageBindVision:
    state = torch.load(path_or_state, map_location='cpu') if isinstance(path_or_state, str) else path_or_state
    model = ImageBindVision(cfg)
    strict_load(model, vision_state_from_checkpoint(state), 'ImageBind vision tower')
    return model.eval()


class VisionExportWrapper(nn.Module):
    """encoder.onnx: `pixel` (1,3,S,S) → `img_emb` (1,E), `taps` (4,1,P,W).

    SPEC §2 [inferred]: both frames of PadIm2Video are identical, so Conv3d(k=(2,p,p)) equals a
    Conv2d(k=p) with the kernel summed over its temporal axis; ONNX then needs no 5-D conv.
    """

    def __init__(self, model: ImageBindVision):
        super().__init__()
        pre = model.modality_preprocessors['vision']
        conv3d = pre.rgbt_stem.proj[1]
        w = conv3d.weight.detach().sum(dim=2)
        self.stem = nn.Conv2d(3, w.shape[0], kernel_size=model.cfg.patch, stride=model.cfg.patch, bias=False)
        with torch.no_grad():
            self.stem.weight.copy_(w)
        self.cls_token = pre.cls_token
        self.pos_embed = pre.pos_embedding_helper.pos_embed
        self.model = model

    def forward(self, pixel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.stem(pixel).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1) + self.pos_embed
        return self.model.forward_tokens(tokens)
