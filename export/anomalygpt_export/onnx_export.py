"""torch.onnx.export at opset 17 with static shapes, writing one `.onnx` file, or, past the
2 GB protobuf limit (the full-size encoder: ~2.5 GB of fp32 weights, SPEC §11), the graph plus
ONE external-data file `<name>.data` next to it. onnxruntime resolves that file relative to the
model path, which is how src/vlm/anomalygpt.ts opens the encoder.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from typing import Sequence

import onnx
import torch

OPSET = 17
# The protobuf limit is 2 GiB; keep a margin for the graph itself.
EXTERNAL_THRESHOLD = 1_800_000_000


def tensor_bytes(module: torch.nn.Module) -> int:
    return sum(t.numel() * 4 for t in list(module.parameters()) + list(module.buffers()))


def _export(module: torch.nn.Module, args: tuple, path: str, inputs: Sequence[str], outputs: Sequence[str]) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns on every MultiheadAttention constant; harmless for static shapes.
        warnings.filterwarnings('ignore', message='The shape inference of prim::Constant')
        torch.onnx.export(module, args, path, input_names=list(inputs), output_names=list(outputs),
                          opset_version=OPSET, do_constant_folding=True)


def export_onnx(module: torch.nn.Module, args: tuple, path: str, inputs: Sequence[str], outputs: Sequence[str],
                external_threshold: int = EXTERNAL_THRESHOLD) -> list[str]:
    """Returns the file names written (relative to the model's folder), the model first."""
    module = module.eval()
    name = os.path.basename(path)
    if tensor_bytes(module) < external_threshold:
        _export(module, args, path, inputs, outputs)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return [name]
    # torch writes one file per tensor when the proto would pass 2 GB; export into a scratch
    # folder, then re-save with every initializer in a single data file.
    data = name + '.data'
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as tmp:
        scratch = os.path.join(tmp, name)
        _export(module, args, scratch, inputs, outputs)
        model = onnx.load(scratch)  # pulls the external tensors in
        for f in (path, os.path.join(os.path.dirname(path), data)):
            if os.path.exists(f):
                os.remove(f)
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
    onnx.checker.check_model(path, full_check=True)  # by path: the checker reads external data
    return [name, data]
