"""Self-checks the TS test asserts on (export_vision.py --self-check → reference/index.json
`checks`): full-size key names and shapes against `expected_*_keys` (modules built on the meta
device, so no 2.5 GB allocation), full-size parameter counts against SPEC §5/§8, the clear
errors of strict loading, and the Conv3d→Conv2d stem equivalence (SPEC §2) measured.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from .anomalygpt_heads import LinearLayer, PromptLearner, load_anomalygpt_heads, load_llama_proj
from .imagebind_text import FULL_TEXT, ImageBindText, expected_text_keys
from .imagebind_vision import FULL_VISION, CheckpointKeyError, ImageBindVision, VisionExportWrapper, expected_vision_keys, load_imagebind_vision
from .vision_reference import reference_pixel


def _compare(expected: dict[str, tuple[tuple[int, ...], str]], module: nn.Module) -> dict[str, Any]:
    sd = module.state_dict()
    return {
        'expected': len(expected), 'module': len(sd),
        'missing': sorted(set(expected) - set(sd)), 'extra': sorted(set(sd) - set(expected)),
        'shapeMismatch': sorted(k for k in set(sd) & set(expected) if tuple(sd[k].shape) != expected[k][0]),
        'inferred': sorted(k for k, (_, note) in expected.items() if note),
    }


def _error_of(fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        fn()
    except CheckpointKeyError as e:
        return {'type': type(e).__name__, 'message': str(e)}
    return {'type': None, 'message': 'no error raised'}


def _count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@torch.no_grad()
def self_checks(vision: ImageBindVision, heads: Any) -> dict[str, Any]:
    cfg = vision.cfg
    pixel = reference_pixel(cfg.image_size)
    # Strict-load errors on the reduced model's own weights with one key removed / added.
    sd = vision.state_dict()
    gone = 'modality_trunks.vision.blocks.0.attn.in_proj_weight'
    without = {k: v for k, v in sd.items() if k != gone}
    extra = {**sd, 'modality_heads.vision.2.bias': torch.zeros(cfg.embed_dim)}
    agpt = {**{f'image_decoder.{k}': v for k, v in heads.decoder.state_dict().items()},
            **{f'prompt_learner.{k}': v for k, v in heads.prompt_learner.state_dict().items() if k != 'base_prompts'}}
    W, E, H = cfg.width, cfg.embed_dim, heads.llama_proj.out_features
    channels = [m.out_channels for m in heads.prompt_learner.meta_net if isinstance(m, nn.Conv2d)][:-1]
    # Conv3d stem → Conv2d with the kernel summed over time: the reduced model end to end, and a
    # full-width stem (3→1280, k=(2,14,14), PyTorch default init) on the same image.
    emb, taps = vision(pixel)
    emb2, taps2 = VisionExportWrapper(vision)(pixel)
    full3d = nn.Conv3d(3, 1280, (2, 14, 14), stride=(2, 14, 14), bias=False)
    ref = full3d(pixel.unsqueeze(2).repeat(1, 1, 2, 1, 1)).squeeze(2)
    got = nn.functional.conv2d(pixel, full3d.weight.sum(dim=2), stride=14)
    return {
        'fullVisionKeys': _compare(expected_vision_keys(FULL_VISION), ImageBindVision(FULL_VISION, device='meta')),
        'fullTextKeys': _compare(expected_text_keys(FULL_TEXT), ImageBindText(FULL_TEXT, device='meta')),
        'fullParamCounts': {
            'visionTower': _count(ImageBindVision(FULL_VISION, device='meta')),
            'decoder': _count(LinearLayer(1280, 1024, device='meta')),
            'promptLearner': _count(PromptLearner(4096, device='meta')),
            'llamaProj': _count(nn.Linear(1024, 4096, device='meta')),
        },
        'missingKeyError': {**_error_of(lambda: load_imagebind_vision(without, cfg)), 'removed': gone},
        'unexpectedKeyError': _error_of(lambda: load_imagebind_vision(extra, cfg)),
        'headsMissingKeyError': _error_of(lambda: load_anomalygpt_heads(agpt, W, E, H, channels)),
        'pandaMissingKeyError': _error_of(lambda: load_llama_proj({'llama_model.x': torch.zeros(1)}, E, H)),
        'roundTripLoad': float((load_imagebind_vision(sd, cfg)(pixel)[1] - taps).abs().max()),
        'conv3dToConv2d': {
            'reducedImgEmbMaxAbs': float((emb2 - emb).abs().max()), 'reducedTapsMaxAbs': float((taps2 - taps).abs().max()),
            'reducedTapsMaxRef': float(taps.abs().max()),
            'fullStemMaxAbs': float((got - ref).abs().max()), 'fullStemMaxRef': float(ref.abs().max()),
        },
    }
