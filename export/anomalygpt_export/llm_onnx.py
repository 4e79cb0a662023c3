"""torch.onnx.export of llama_hf.LlamaForCausalLM with the src/vlm/llm/llm-interface.ts interface:

  inputs   inputs_embeds [1,S,H] f32, attention_mask [1,T] i64, position_ids [1,S] i64,
           past_key_values.{i}.key / .value [1,kv,P,d] f32
  outputs  logits [1,S,V], present.{i}.key / .value [1,kv,T,d]

S, P and T are dynamic (names as tools/models/llm/llama-graph.ts writes them). The trace runs with
S = 3 and P = 2 so no size is specialised to 0 or 1. Opset 17. A float32 7B decoder is ~27 GB:
torch then writes one file per tensor, and `consolidate_external_data` streams them into one
`llm.onnx.data` (never holding all weights twice), which onnxruntime resolves next to the model.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

import onnx
import torch
from onnx import TensorProto
from onnx.external_data_helper import _get_all_tensors  # onnx 1.12 has no public equivalent
from torch import nn

OPSET = 17
S, P, T = 'sequence_length', 'past_sequence_length', 'total_sequence_length'
# Past this size of initializers the graph goes to external data (protobuf's limit is 2 GiB).
EXTERNAL_ABOVE_BYTES = 1_800_000_000
INLINE_MAX_BYTES = 1024
ALIGN = 64


class InterfaceWrapper(nn.Module):
    """Flat tensors in and out, in the interface's order (torch.onnx needs positional tensors)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.layers)]
        logits, present = self.model(inputs_embeds, attention_mask, position_ids, past)
        return (logits, *[t for kv in present for t in kv])


def interface_names(layers: int) -> tuple[list[str], list[str]]:
    ins = ['inputs_embeds', 'attention_mask', 'position_ids']
    outs = ['logits']
    for i in range(layers):
        ins += [f'past_key_values.{i}.key', f'past_key_values.{i}.value']
        outs += [f'present.{i}.key', f'present.{i}.value']
    return ins, outs


def export_decoder(model, out_dir: str, name: str = 'llm.onnx', *, force_external: bool = False, log=print) -> list[str]:
    """Writes `name` (and `name + '.data'` when external); returns the file names, model first."""
    c = model.config
    ins, outs = interface_names(c.num_hidden_layers)
    s, p = 3, 2
    args = (torch.randn(1, s, c.hidden_size), torch.ones(1, p + s, dtype=torch.int64), torch.arange(p, p + s)[None],
            *[torch.randn(1, c.num_key_value_heads, p, c.head_dim) for _ in range(2 * c.num_hidden_layers)])
    axes = {'inputs_embeds': {1: S}, 'attention_mask': {1: T}, 'position_ids': {1: S}, 'logits': {1: S}}
    for n in ins[3:]:
        axes[n] = {2: P}
    for n in outs[1:]:
        axes[n] = {2: T}
    big = sum(t.numel() * 4 for t in model.parameters()) > EXTERNAL_ABOVE_BYTES
    path = os.path.join(out_dir, name)
    data = name + '.data'
    for f in (path, os.path.join(out_dir, data)):
        if os.path.exists(f):
            os.remove(f)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix='.onnx-export-') as tmp:
        scratch = os.path.join(tmp, name)
        with torch.no_grad():
            torch.onnx.export(InterfaceWrapper(model).eval(), args, scratch, input_names=ins, output_names=outs,
                              dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
        if big or force_external:
            log(f'  consolidating external data into {data}')
            consolidate_external_data(scratch, path, data)
        else:
            shutil.move(scratch, path)
    onnx.checker.check_model(path, full_check=not (big or force_external))
    return [name, data] if big or force_external else [name]


def consolidate_external_data(src: str, dst: str, data_name: str) -> None:
    """Graph `src` (inline tensors and/or torch's one-file-per-tensor external data) → graph `dst`
    with every tensor ≥ 1 KiB in the single file `data_name` next to it, copied chunk-wise."""
    src_dir, dst_dir = os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst))
    m = onnx.load(src, load_external_data=False)
    offset = 0
    with open(os.path.join(dst_dir, data_name), 'wb') as out:
        # Initializers and tensors inside node attributes: torch also externalises Constant
        # nodes' values (the RoPE tables, 1 MiB each at full size).
        for t in _get_all_tensors(m):
            external = t.HasField('data_location') and t.data_location == TensorProto.EXTERNAL
            if external:
                info = {e.key: e.value for e in t.external_data}
                with open(os.path.join(src_dir, info['location']), 'rb') as f:
                    f.seek(int(info.get('offset', 0)))
                    length = int(info['length']) if 'length' in info else None
                    chunks = _read_chunks(f, length)
                    start, n = _append(out, offset, chunks)
            elif len(t.raw_data) >= INLINE_MAX_BYTES:
                start, n = _append(out, offset, [t.raw_data])
                t.ClearField('raw_data')
            else:
                continue
            offset = start + n
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            for k, v in (('location', data_name), ('offset', str(start)), ('length', str(n))):
                e = t.external_data.add()
                e.key, e.value = k, v
    onnx.save(m, dst)


def _read_chunks(f, length: int | None, size: int = 64 << 20):
    left = length
    while left is None or left > 0:
        chunk = f.read(size if left is None else min(size, left))
        if not chunk:
            if left:
                raise ValueError('external data file ends early')
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def _append(out, offset: int, chunks) -> tuple[int, int]:
    pad = (-offset) % ALIGN
    out.write(b'\0' * pad)
    start, n = offset + pad, 0
    for c in chunks:
        out.write(c)
        n += len(c)
    return start, n


def split_then_consolidate(src: str, dst_dir: str, name: str = 'llm.onnx') -> None:
    """Test path for the > 2 GB case at small size: re-save `src` with one external file per
    tensor (what torch.onnx writes past 2 GB, Constant-node values included), then consolidate into `dst_dir/name` + `name.data`."""
    with tempfile.TemporaryDirectory() as tmp:
        m = onnx.load(src)
        split = os.path.join(tmp, name)
        onnx.save_model(m, split, save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=INLINE_MAX_BYTES,
                        convert_attribute=True)
        os.makedirs(dst_dir, exist_ok=True)
        consolidate_external_data(split, os.path.join(dst_dir, name), name + '.data')
    onnx.checker.check_model(os.path.join(dst_dir, name))


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] != 'split-then-consolidate':
        print('usage: python3 -m anomalygpt_export.llm_onnx split-then-consolidate SRC.onnx DST_DIR', file=sys.stderr)
        sys.exit(64)
    split_then_consolidate(sys.argv[2], sys.argv[3])
