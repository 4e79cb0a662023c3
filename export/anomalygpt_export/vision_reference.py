"""PyTorch reference outputs of the vision side for one fixed, deterministic input image, written
as raw LE float32 files plus `index.json` into the bundle's `reference/` folder (not listed in
any manifest). The TS round-trip test (test/export/vision-export.test.ts) runs the exported
graphs and the TS-built map graph on the same inputs and compares.

The anomaly map is computed as the seed does (SPEC §3, anomalygpt_heads.unsupervised_map) from
the ORIGINAL module (Conv3d stem), prototypes computed directly for the map class (not read
back from the table), so the test also checks the table's row order.
"""
from __future__ import annotations

import math
import os
from typing import Any

import torch

from .anomalygpt_heads import LlamaProjToken, unsupervised_map
from .bundle_io import write_f32, write_json
from . import clip_tokenizer
from .clip_tokenizer import ClipTokenizer
from .imagebind_text import ImageBindText, canonical_class, class_prototypes, prototype_sentences
from .imagebind_vision import ImageBindVision


def reference_pixel(size: int) -> torch.Tensor:
    """(1,3,S,S) CLIP-normalised-range pattern: smooth waves plus one bright square (a 'defect')."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing='ij')
    img = torch.stack([torch.sin(2 * math.pi * (3 * x + 2 * y)), torch.cos(2 * math.pi * 5 * x * y), x - y]) * 1.2
    r0, c0 = int(size * 0.65), int(size * 0.2)
    img[:, r0:r0 + size // 8, c0:c0 + size // 8] += 2.0
    return img.unsqueeze(0).float()


@torch.no_grad()
def write_reference(ref_dir: str, vision: ImageBindVision, text: ImageBindText, tok: ClipTokenizer, heads: Any,
                    table: torch.Tensor, names: list[str], map_class: str, result: dict[str, Any],
                    checks: dict[str, Any] | None, bpe: str) -> None:
    os.makedirs(ref_dir, exist_ok=True)
    S = vision.cfg.image_size
    pixel = reference_pixel(S)
    img_emb, taps = vision(pixel)
    cls = canonical_class(map_class)
    if cls not in names:
        raise SystemExit(f'--map-class {map_class!r} ({cls!r}) is not in the class list')
    protos = class_prototypes(text, tok, cls)
    amap = unsupervised_map(heads.decoder, taps, protos, S)
    tensors = {
        'pixel': pixel,
        'img_emb': img_emb,
        'taps': taps,
        'dec_tokens': heads.decoder(taps),
        'prototypes': protos,
        'anomaly_map': amap,
        'prompts': heads.prompt_learner(amap),
        'image_token': LlamaProjToken(heads.llama_proj)(img_emb),
    }
    index: dict[str, Any] = {'tensors': {}}
    for name, t in tensors.items():
        write_f32(os.path.join(ref_dir, f'{name}.f32'), t)
        index['tensors'][name] = {'file': f'{name}.f32', 'shape': list(t.shape)}
    normal, abnormal = prototype_sentences(cls)
    ids = tok(normal[0])
    cfg = vision.cfg
    index.update({
        'dims': {'size': S, 'patch': cfg.patch, 'grid': cfg.grid, 'patches': cfg.patches, 'width': cfg.width, 'embedDim': cfg.embed_dim,
                 'hidden': heads.llama_proj.out_features, 'depth': cfg.depth, 'heads': cfg.heads, 'tapBlocks0': list(cfg.tap_blocks)},
        'classes': names,
        'mapClass': cls,
        'mapClassRow': names.index(cls),
        'sentences': {'normal': normal, 'abnormal': abnormal},
        'tokenizer': {'bpe': os.path.basename(bpe), 'vocab': tok.vocab_size, 'sot': tok.sot, 'eot': tok.eot,
                      'sentence': normal[0], 'ids': ids[:ids.index(tok.eot) + 1], 'decoded': tok.decode(ids),
                      'ftfy': clip_tokenizer.ftfy is not None, 'regex': clip_tokenizer.HAVE_REGEX},
        'files': result['files'],
        'sections': result['sections'],
        'checks': checks,
    })
    write_json(os.path.join(ref_dir, 'index.json'), index)
