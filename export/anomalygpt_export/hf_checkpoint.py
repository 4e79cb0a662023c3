"""Loading Hugging Face Llama shards (Vicuna-7B v0, SPEC §8) into llama_hf.LlamaForCausalLM with
strict checking, one shard at a time. The seed loads with strict=False, which hides mismatches;
here every parameter must be loaded exactly once and every checkpoint key used, or the error
lists the missing, unexpected and mis-shaped keys.

Formats: `pytorch_model.bin.index.json` + shards, `pytorch_model*.bin`, or `*.safetensors` —
the last only when the `safetensors` module is importable (it is not on this machine, so that
branch is untested).
"""
from __future__ import annotations

import glob
import json
import os
from typing import Any

import torch

from .llama_hf import LlamaForCausalLM

# HF checkpoints written by older transformers carry the RoPE frequencies as a buffer; they are
# derived from the config, so they are checked against it, never loaded.
_DERIVED_SUFFIX = '.self_attn.rotary_emb.inv_freq'


def shard_files(vicuna_dir: str) -> list[str]:
    """The HF weight files of a model folder: the index's shards, or every pytorch_model*.bin,
    or *.safetensors when the safetensors module is importable (it is not on this machine)."""
    for index_name, kind in (('pytorch_model.bin.index.json', 'bin'), ('model.safetensors.index.json', 'st')):
        index = os.path.join(vicuna_dir, index_name)
        if os.path.isfile(index):
            with open(index, encoding='utf-8') as f:
                names = sorted(set(json.load(f)['weight_map'].values()))
            return [os.path.join(vicuna_dir, n) for n in names]
    bins = sorted(glob.glob(os.path.join(vicuna_dir, 'pytorch_model*.bin')))
    if bins:
        return bins
    sts = sorted(glob.glob(os.path.join(vicuna_dir, '*.safetensors')))
    if sts:
        return sts
    raise FileNotFoundError(f'{vicuna_dir}: no pytorch_model*.bin, *.safetensors or index json')


def _read_shard(path: str) -> dict[str, torch.Tensor]:
    if path.endswith('.safetensors'):
        try:
            from safetensors.torch import load_file  # type: ignore[import-not-found]
        except ImportError as e:
            raise RuntimeError(f'{path}: safetensors shards need the safetensors module, which is not installed') from e
        return load_file(path)
    sd = torch.load(path, map_location='cpu')
    if not isinstance(sd, dict):
        raise ValueError(f'{path}: expected a state dict, got {type(sd).__name__}')
    return sd


def load_hf_weights(model: LlamaForCausalLM, vicuna_dir: str, log=print) -> dict[str, Any]:
    """Copies the shards into `model` one shard at a time (peak memory: model + one shard), in
    float32, with strict checking: every parameter loaded exactly once, every key used, shapes equal."""
    params = dict(model.named_parameters())
    loaded: set[str] = set()
    unexpected: list[str] = []
    derived: list[str] = []
    shapes: list[str] = []
    files = shard_files(vicuna_dir)
    for path in files:
        sd = _read_shard(path)
        log(f'  {os.path.basename(path)}: {len(sd)} tensors')
        for k, v in sd.items():
            if k.endswith(_DERIVED_SUFFIX):
                # Must equal 1/θ^(2i/d) from the config, else θ is not what the export assumes.
                if not torch.allclose(v.float(), model.rotary.inv_freq, rtol=1e-3, atol=0):
                    shapes.append(f'{k}: not 1/θ^(2i/d) for θ={model.config.rope_theta}')
                derived.append(k)
                continue
            p = params.get(k)
            if p is None:
                unexpected.append(k)
            elif tuple(v.shape) != tuple(p.shape):
                shapes.append(f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(p.shape)}')
            elif k in loaded:
                shapes.append(f'{k}: present in more than one shard')
            else:
                with torch.no_grad():
                    p.copy_(v.to(torch.float32))
                loaded.add(k)
        del sd
    missing = sorted(set(params) - loaded)
    if missing or unexpected or shapes:
        def show(title: str, keys: list[str]) -> str:
            return f'{title} ({len(keys)}): ' + ', '.join(keys[:12]) + (' …' if len(keys) > 12 else '') if keys else ''
        parts = [show('missing', missing), show('unexpected', sorted(unexpected)), show('shape', shapes)]
        raise ValueError(f'{vicuna_dir}: checkpoint does not match LlamaForCausalLM {model.config}:\n  '
                         + '\n  '.join(p for p in parts if p))
    return {'files': [os.path.basename(f) for f in files], 'tensors': len(loaded), 'ignoredDerived': len(derived)}

