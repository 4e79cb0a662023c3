#!/usr/bin/env python3
"""Vision side of the AnomalyGPT bundle (models/anomalygpt/README.md table): encoder.onnx,
decoder.bin, text-prototypes.bin, prompt-learner.onnx, llama-proj.onnx.

  # official checkpoints (SPEC §8)
  python3 -m anomalygpt_export.export_vision --out DIR --imagebind imagebind_huge.pth \\
      --anomalygpt train_supervised/pytorch_model.pt --pandagpt pandagpt_7b/pytorch_model.pt \\
      --bpe bpe_simple_vocab_16e6.txt.gz [--class NAME ...] [--reference]
  # random init of the same architectures at reduced size (tests)
  python3 -m anomalygpt_export.export_vision --out DIR --random --reduced --seed 3 --reference --self-check

`--reference` adds `reference/` (NOT listed in any manifest): PyTorch outputs for a fixed input
image as raw LE float32 plus `reference/index.json` (vision_reference.py); `--self-check` adds the
key-name and Conv3d→Conv2d checks to it (vision_checks.py).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from dataclasses import asdict
from typing import Any, Sequence


import torch
from torch import nn

from .anomalygpt_heads import (FULL_PL_CHANNELS, TEMPERATURE, LinearLayer, LlamaProjToken, PromptLearner,
                              load_anomalygpt_heads, load_llama_proj, write_decoder_bin)
from .bundle_io import file_entry, write_f32
from .clip_tokenizer import ClipTokenizer, write_synthetic_vocab
from .imagebind_text import FULL_TEXT, ImageBindText, TextConfig, class_list, load_imagebind_text, prototype_sentences, prototype_table
from .imagebind_vision import FULL_VISION, ImageBindVision, VisionConfig, VisionExportWrapper, load_imagebind_vision
from .manifest_schema import ANOMALYGPT_BUNDLE, exits_on_manifest_error, validate_block, validate_file_entries
from .onnx_export import EXTERNAL_THRESHOLD, export_onnx

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # SPEC §1
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
FULL_HIDDEN = 4096
# Reduced size for tests: S 224 / patch 14 as full size (P = 256, and the prompt learner needs
# S = 224 for its 3×3 output), narrow everything else; 8 blocks with taps after 2/4/6/8.
REDUCED_VISION = VisionConfig(width=64, depth=8, heads=4, embed_dim=32, tap_blocks=(1, 3, 5, 7))
REDUCED_TEXT = TextConfig(width=32, depth=2, heads=2, embed_dim=32)
REDUCED_HIDDEN = 64
REDUCED_PL_CHANNELS = (4, 8, 16, 16, 32)
SYNTHETIC_MERGES = 400


class Heads:
    def __init__(self, decoder: LinearLayer, prompt_learner: PromptLearner, llama_proj: nn.Linear):
        self.decoder, self.prompt_learner, self.llama_proj = decoder, prompt_learner, llama_proj


def randomize_(module: nn.Module, gen: torch.Generator) -> None:
    """Seeded random weights with a working signal scale (LN gains near 1, fan-in scaled
    matrices, He-scaled ReLU convs); parameters visited in name order, so deterministic."""
    ln = {f'{n}.{p}' if n else p for n, m in module.named_modules() if isinstance(m, nn.LayerNorm) for p in ('weight', 'bias')}
    conv = {f'{n}.weight' for n, m in module.named_modules() if isinstance(m, nn.Conv2d)}
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            n = torch.randn(p.shape, generator=gen)
            if name in ln:
                v = 1 + 0.1 * n if name.endswith('weight') else 0.02 * n
            elif name.endswith('log_logit_scale'):
                continue  # keep upstream's init log(1/0.07)
            elif name.endswith(('cls_token', 'token_embedding.weight')):
                v = 0.5 * n
            elif name.endswith('pos_embed'):
                v = 0.1 * n
            elif name.endswith('base_prompts'):
                v = 0.3 * n
            elif name in conv:
                v = n * math.sqrt(2 / p[0].numel())
            elif p.dim() >= 2:
                v = n / math.sqrt(p[0].numel())
            else:
                v = 0.02 * n
            p.copy_(v)


def build_random(vocab_dir: str, reduced: bool, seed: int, bpe: str | None):
    """Random-init models (+ a synthetic BPE vocabulary in `vocab_dir` when no --bpe is given)."""
    vcfg, tcfg = (REDUCED_VISION, REDUCED_TEXT) if reduced else (FULL_VISION, FULL_TEXT)
    hidden, channels = (REDUCED_HIDDEN, REDUCED_PL_CHANNELS) if reduced else (FULL_HIDDEN, FULL_PL_CHANNELS)
    if bpe is None:
        bpe = os.path.join(vocab_dir, 'synthetic_bpe.txt.gz')
        os.makedirs(vocab_dir, exist_ok=True)
        corpus = [s for c in class_list() for g in prototype_sentences(c) for s in g]
        write_synthetic_vocab(bpe, corpus, SYNTHETIC_MERGES)
    tok = ClipTokenizer(bpe)
    tcfg = TextConfig(**{**asdict(tcfg), 'vocab': tok.vocab_size})
    gen = torch.Generator().manual_seed(seed)
    vision, text = ImageBindVision(vcfg), ImageBindText(tcfg)
    dec, pl, proj = LinearLayer(vcfg.width, vcfg.embed_dim), PromptLearner(hidden, channels), nn.Linear(vcfg.embed_dim, hidden)
    for m in (vision, text, dec, pl, proj):
        randomize_(m, gen)
    return vision.eval(), text.eval(), tok, Heads(dec.eval(), pl.eval(), proj.eval()), bpe


def load_real(imagebind: str, anomalygpt: str, pandagpt: str, bpe: str):
    """The official checkpoints, strict per tower / prefix (SPEC §8)."""
    state = torch.load(imagebind, map_location='cpu')
    vision, text = load_imagebind_vision(state, FULL_VISION), load_imagebind_text(state, FULL_TEXT)
    del state
    dec, pl = load_anomalygpt_heads(anomalygpt)
    return vision, text, ClipTokenizer(bpe), Heads(dec, pl, load_llama_proj(pandagpt)), bpe


def export_vision(out_dir: str, *, imagebind: str | None = None, anomalygpt: str | None = None, pandagpt: str | None = None,
                  bpe: str | None = None, random: bool = False, reduced: bool = False, seed: int = 0,
                  classes: Sequence[str] = (), reference: bool = False, map_class: str = 'bottle', self_check: bool = False,
                  external_threshold: int = EXTERNAL_THRESHOLD, device: str = 'cpu') -> dict[str, Any]:
    """Writes the vision files into `out_dir`; returns {'files': manifest entries, 'sections':
    the top manifest's image/encoder/decoder/textPrototypes/promptLearner/llamaProj blocks,
    'hidden': H, 'source': provenance text}."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    scratch = None
    if random:
        # The synthetic vocabulary is kept with the references, else dropped after use.
        scratch = None if reference else tempfile.TemporaryDirectory()
        vision, text, tok, heads, bpe = build_random(os.path.join(out_dir, 'reference') if reference else scratch.name, reduced, seed, bpe)
        source = f'random weights, seed {seed}, {"reduced" if reduced else "full"} size, built by export/anomalygpt_export/export_vision.py'
    else:
        missing = [n for n, v in (('--imagebind', imagebind), ('--anomalygpt', anomalygpt), ('--pandagpt', pandagpt), ('--bpe', bpe)) if not v]
        if missing:
            raise SystemExit(f'export_vision: real export needs {", ".join(missing)} (or --random)')
        vision, text, tok, heads, bpe = load_real(imagebind, anomalygpt, pandagpt, bpe)
        source = f'ImageBind-Huge {os.path.basename(imagebind)}; AnomalyGPT {anomalygpt}; PandaGPT delta {pandagpt}'
    cfg, S = vision.cfg, vision.cfg.image_size
    hidden = heads.llama_proj.out_features
    names = class_list(classes)

    written: list[tuple[str, str]] = []
    for f in export_onnx(VisionExportWrapper(vision), (torch.zeros(1, 3, S, S),), os.path.join(out_dir, 'encoder.onnx'),
                         ['pixel'], ['img_emb', 'taps'], external_threshold):
        written.append((f, 'encoder'))
    write_decoder_bin(heads.decoder, os.path.join(out_dir, 'decoder.bin'))
    written.append(('decoder.bin', 'decoder'))
    table = prototype_table(text, tok, names, device)
    write_f32(os.path.join(out_dir, 'text-prototypes.bin'), table)
    written.append(('text-prototypes.bin', 'text-prototypes'))
    export_onnx(heads.prompt_learner, (torch.zeros(1, 1, S, S),), os.path.join(out_dir, 'prompt-learner.onnx'), ['anomaly_map'], ['prompts'])
    written.append(('prompt-learner.onnx', 'prompt-learner'))
    export_onnx(LlamaProjToken(heads.llama_proj), (torch.zeros(1, cfg.embed_dim),), os.path.join(out_dir, 'llama-proj.onnx'), ['img_emb'], ['image_token'])
    written.append(('llama-proj.onnx', 'llama-proj'))

    result = {
        'files': [file_entry(out_dir, rel, role) for rel, role in written],
        'sections': {
            'image': {'size': S, 'patch': cfg.patch, 'mean': list(CLIP_MEAN), 'std': list(CLIP_STD), 'resize': 'shorter-side-crop', 'interpolation': 'bicubic-pil'},
            'encoder': {'file': 'encoder.onnx', 'width': cfg.width, 'embedDim': cfg.embed_dim, 'tapBlocks': [b + 1 for b in cfg.tap_blocks]},
            'decoder': {'file': 'decoder.bin', 'temperature': TEMPERATURE},
            'textPrototypes': {'file': 'text-prototypes.bin', 'classes': names, 'source': 'imagebind-text' if not random else 'imagebind-text-random-init'},
            'promptLearner': {'file': 'prompt-learner.onnx', 'basePrompts': 9, 'mapPrompts': 9},
            'llamaProj': {'file': 'llama-proj.onnx'},
        },
        'hidden': hidden,
        'source': source,
    }
    # The top manifest (export_bundle.py) is written after the slower LLM export: its vision
    # blocks are checked against anomalygpt-bundle.schema.json now.
    for name, block in result['sections'].items():
        validate_block(ANOMALYGPT_BUNDLE, name, block, where=f'{out_dir}: vision manifest blocks')
    validate_file_entries(ANOMALYGPT_BUNDLE, result['files'], where=f'{out_dir}: vision files')
    if reference:
        from .vision_reference import write_reference
        checks = None
        if self_check:
            from .vision_checks import self_checks
            checks = self_checks(vision, heads)
            # The >2 GB route (one external-data file) exercised at reduced size: threshold 0.
            ext = os.path.join(out_dir, 'reference', 'external')
            os.makedirs(ext, exist_ok=True)
            checks['externalData'] = export_onnx(VisionExportWrapper(vision), (torch.zeros(1, 3, S, S),), os.path.join(ext, 'encoder.onnx'),
                                                 ['pixel'], ['img_emb', 'taps'], external_threshold=0)
        write_reference(os.path.join(out_dir, 'reference'), vision, text, tok, heads, table, names, map_class, result, checks, bpe)
    if scratch is not None:
        scratch.cleanup()
    return result


@exits_on_manifest_error
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--imagebind')
    ap.add_argument('--anomalygpt')
    ap.add_argument('--pandagpt')
    ap.add_argument('--bpe', help='bpe_simple_vocab_16e6.txt.gz (random mode: a synthetic one when absent)')
    ap.add_argument('--random', action='store_true')
    ap.add_argument('--reduced', action='store_true')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--class', dest='classes', action='append', default=[], help='extra prototype class (repeatable)')
    ap.add_argument('--reference', action='store_true', help='write reference/ PyTorch outputs')
    ap.add_argument('--map-class', default='bottle')
    ap.add_argument('--self-check', action='store_true')
    ap.add_argument('--device', default='cpu', help="torch device for the text-prototype pass ('cuda' at full size)")
    a = ap.parse_args(argv)
    if a.reduced and not a.random:
        ap.error('--reduced needs --random (the checkpoints are full size)')
    r = export_vision(a.out, imagebind=a.imagebind, anomalygpt=a.anomalygpt, pandagpt=a.pandagpt, bpe=a.bpe, random=a.random,
                      reduced=a.reduced, seed=a.seed, classes=a.classes, reference=a.reference or a.self_check,
                      map_class=a.map_class, self_check=a.self_check, device=a.device)
    for f in r['files']:
        print(f"{f['sha256']}  {f['bytes']}  {os.path.join(a.out, f['path'])}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
