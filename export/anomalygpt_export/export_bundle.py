#!/usr/bin/env python3
"""The whole AnomalyGPT bundle (schema `anomalygpt-edge/anomalygpt-bundle@1`,
src/vlm/manifest.ts): the vision files (export_vision.py), the LLM sub-bundle in `llm/`
(export_llm.py, `export_llm_bundle`), then the top `manifest.json` listing every file with its
sha256 and size, `llm/manifest.json` included (role llm-manifest; it pins the LLM's own files).

  # official checkpoints (SPEC §8)
  python3 -m anomalygpt_export.export_bundle --out DIR --imagebind imagebind_huge.pth \\
      --anomalygpt ckpt/train_supervised/pytorch_model.pt --pandagpt pandagpt_7b/pytorch_model.pt \\
      --bpe bpe_simple_vocab_16e6.txt.gz --vicuna-dir vicuna_ckpt/7b_v0 [--int4] [--class NAME ...]
  # reduced random bundle that AnomalyGpt.load accepts (tests)
  python3 -m anomalygpt_export.export_bundle --out DIR --random --reduced --seed 1
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

from .bundle_io import file_entry
from .manifest_schema import ANOMALYGPT_BUNDLE as SCHEMA, exits_on_manifest_error, validate_block, write_manifest

# Reduced LLM next to the reduced vision side (H must equal the prompt learner's / llama_proj's).
REDUCED_LLM = {'layers': 2, 'heads': 4, 'intermediate': 172, 'contextLength': 512}


def manifest_problems(m: dict[str, Any]) -> list[str]:
    """The relations src/vlm/manifest.ts `manifestProblems` checks, which no JSON Schema can
    express. Everything else (blocks, roles, id, closed objects) is models/schemas/
    anomalygpt-bundle.schema.json's, checked first by write_manifest."""
    p: list[str] = []
    listed = {f['path'] for f in m['files']}
    for rel in (m['encoder']['file'], m['decoder']['file'], m['textPrototypes']['file'], m['promptLearner']['file'],
                m['llamaProj']['file'], f"{m['llm']['dir']}/manifest.json"):
        if rel not in listed:
            p.append(f'{rel} is not listed in files')
    if m['image']['size'] % m['image']['patch']:
        p.append('image size is not a multiple of patch')
    if len(set(m['textPrototypes']['classes'])) != len(m['textPrototypes']['classes']):
        p.append('duplicate class names')
    if m['verdict']['yes'] == m['verdict']['no']:
        p.append('verdict words must differ')
    return p


def export_bundle(out_dir: str, *, imagebind: str | None = None, anomalygpt: str | None = None, pandagpt: str | None = None,
                  bpe: str | None = None, vicuna_dir: str | None = None, tokenizer_model: str | None = None,
                  random: bool = False, reduced: bool = False, seed: int = 0, classes: Sequence[str] = (),
                  quantize_int4: bool = False, bundle_id: str | None = None, reference: bool = False,
                  llm_random_config: dict[str, Any] | None = None, device: str = 'cpu') -> dict[str, Any]:
    bundle_id = bundle_id or ('anomalygpt-reduced-random' if random and reduced else 'anomalygpt-random' if random else 'anomalygpt-imagebind-huge-vicuna-7b-v0')
    validate_block(SCHEMA, 'id', bundle_id, where='--id')  # before the slow part; the whole manifest is checked at the end
    from .export_vision import export_vision  # lazily: torch import only when used
    vision = export_vision(out_dir, imagebind=imagebind, anomalygpt=anomalygpt, pandagpt=pandagpt, bpe=bpe, random=random,
                           reduced=reduced, seed=seed, classes=classes, reference=reference, device=device)
    hidden = vision['hidden']

    from .export_llm import export_llm_bundle  # helper B's module, same folder
    llm_kwargs: dict[str, Any] = {'seed': seed, 'quantize_int4': quantize_int4, 'bundle_id': f'{bundle_id}-llm'}
    if random:
        cfg = {**(REDUCED_LLM if reduced else {}), **(llm_random_config or {}), 'hidden': hidden}
        llm = export_llm_bundle(os.path.join(out_dir, 'llm'), random_config=cfg, tokenizer_model=tokenizer_model, pandagpt_ckpt=pandagpt, **llm_kwargs)
    else:
        if not vicuna_dir:
            raise SystemExit('export_bundle: a real export needs --vicuna-dir (or --random)')
        llm = export_llm_bundle(os.path.join(out_dir, 'llm'), vicuna_dir=vicuna_dir, pandagpt_ckpt=pandagpt, tokenizer_model=tokenizer_model, **llm_kwargs)
    llm_manifest = llm.get('manifest', llm)
    llm_hidden = llm_manifest['config']['hidden']
    if llm_hidden != hidden:
        raise ValueError(f"LLM hidden {llm_hidden} != llama_proj / prompt-learner width {hidden}: the bundle would fail E_MODEL_SHAPE")

    s = vision['sections']
    manifest = {
        'schema': SCHEMA,
        'id': bundle_id,
        'version': '1',
        'kind': 'anomalygpt',
        'files': vision['files'] + [file_entry(out_dir, 'llm/manifest.json', 'llm-manifest')],
        'image': s['image'],
        'encoder': s['encoder'],
        'decoder': s['decoder'],
        'textPrototypes': s['textPrototypes'],
        'promptLearner': s['promptLearner'],
        'llamaProj': s['llamaProj'],
        'llm': {'dir': 'llm', 'hidden': hidden},
        # SPEC §6: the answers start with "Yes" / "No".
        'verdict': {'yes': 'Yes', 'no': 'No'},
        'provenance': {
            'source': f"{vision['source']}; LLM: {llm_manifest['provenance']['source']}",
            'license': 'test artefact (random weights)' if random else
            'non-commercial: ImageBind CC-BY-NC-4.0; AnomalyGPT, PandaGPT and Vicuna/LLaMA under their own terms (check the model cards)',
            'builtBy': 'export/anomalygpt_export/export_bundle.py',
            'notes': ('reduced-size random init of the real architectures; synthetic CLIP BPE vocabulary; ' if random and reduced else '')
            + 'encoder Conv3d stem folded to Conv2d (SPEC §2); prototypes = mean of L2-normalised ImageBind text embeddings of the SPEC §3 prompt ensemble',
        },
    }
    write_manifest(out_dir, manifest, SCHEMA, relations=manifest_problems)
    return manifest


@exits_on_manifest_error
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    for name in ('imagebind', 'anomalygpt', 'pandagpt', 'bpe', 'vicuna-dir', 'tokenizer-model', 'id'):
        ap.add_argument(f'--{name}')
    ap.add_argument('--random', action='store_true')
    ap.add_argument('--reduced', action='store_true')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--class', dest='classes', action='append', default=[])
    ap.add_argument('--int4', action='store_true', help='int4 LLM weights (export_llm.py)')
    ap.add_argument('--reference', action='store_true', help='also write the vision reference/ outputs')
    ap.add_argument('--device', default='cpu', help="torch device for the text prototypes ('cuda' at full size)")
    a = ap.parse_args(argv)
    if a.reduced and not a.random:
        ap.error('--reduced needs --random')
    m = export_bundle(a.out, imagebind=a.imagebind, anomalygpt=a.anomalygpt, pandagpt=a.pandagpt, bpe=a.bpe, vicuna_dir=a.vicuna_dir,
                      tokenizer_model=a.tokenizer_model, random=a.random, reduced=a.reduced, seed=a.seed, classes=a.classes,
                      quantize_int4=a.int4, bundle_id=a.id, reference=a.reference, device=a.device)
    for f in m['files']:
        print(f"{f['sha256']}  {f['bytes']}  {os.path.join(a.out, f['path'])}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
