"""Small file helpers shared by the AnomalyGPT export scripts: sha256/size file entries for a
bundle manifest (src/inference/manifest-parts.ts `fileEntrySchema`), raw little-endian float32
writers (decoder.bin, text-prototypes.bin, reference tensors) and JSON written the way the TS
builders write it (`JSON.stringify(m, null, 1)` + newline), so manifests diff cleanly.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Iterable

import numpy as np

_CHUNK = 1 << 22


def sha256_file(path: str) -> str:
    """Streaming sha256 (encoder external data can be several GB)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            b = f.read(_CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def file_entry(root: str, rel: str, role: str) -> dict[str, Any]:
    """One manifest `files` entry: path relative to the bundle root, sha256, bytes, role."""
    if rel.startswith('/') or rel.startswith('..'):
        raise ValueError(f'bundle path must be relative and inside the bundle: {rel}')
    path = os.path.join(root, rel)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'bundle file {path} does not exist')
    return {'path': rel, 'sha256': sha256_file(path), 'bytes': os.path.getsize(path), 'role': role}


def as_f32_le(a: Any) -> np.ndarray:
    """Contiguous little-endian float32 copy of a numpy array or torch tensor."""
    if hasattr(a, 'detach'):
        a = a.detach().cpu().float().numpy()
    return np.ascontiguousarray(np.asarray(a, dtype='<f4'))


def write_f32(path: str, *arrays: Any) -> int:
    """Concatenate the arrays, row-major, as raw LE float32; returns the byte count."""
    parts = [as_f32_le(a).reshape(-1) for a in arrays]
    data = np.concatenate(parts) if len(parts) > 1 else parts[0]
    with open(path, 'wb') as f:
        f.write(data.tobytes())
    return data.nbytes


def read_f32(path: str, shape: Iterable[int] | None = None) -> np.ndarray:
    a = np.fromfile(path, dtype='<f4')
    return a.reshape(tuple(shape)) if shape is not None else a


def write_json(path: str, obj: Any) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(obj, indent=1, ensure_ascii=False))
        f.write('\n')
