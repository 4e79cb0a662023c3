"""Fixtures for test/export/int4.test.ts (run with /usr/bin/python3, PYTHONPATH=export).

  torch-linear OUTDIR   a small torch module with nn.Linear on 3-D input (MatMul [+ Add]) and on
                        2-D input with bias (Gemm, transB = 1), exported twice: with constant
                        folding (MatMul on a pre-transposed initializer) and without it
                        (Transpose + MatMul); plus x.bin / y.bin, the input and torch's output
  externalize-bundle IN OUT   LLM bundle IN copied to OUT with the decoder's initializers in
                        llm.onnx.data (the layout of a Vicuna-size export), manifest re-hashed
                        and checked against models/schemas/llm-bundle.schema.json
"""
import json
import os
import shutil
import sys

import onnx

from anomalygpt_export.bundle_io import file_entry
from anomalygpt_export.manifest_schema import LLM_BUNDLE, write_manifest


def torch_linear(out_dir):
    import torch
    from torch import nn

    class Toy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(48, 80, bias=False)
            self.b = nn.Linear(80, 40, bias=True)
            self.c = nn.Linear(40, 24, bias=True)

        def forward(self, x):  # x [1, S, 48]
            return self.c(self.b(torch.relu(self.a(x)))[0])

    torch.manual_seed(0)
    m = Toy().eval()
    x = torch.randn(1, 5, 48)
    for fold in (True, False):
        torch.onnx.export(m, (x,), os.path.join(out_dir, f'toy_fold{int(fold)}.onnx'), input_names=['x'], output_names=['y'],
                          dynamic_axes={'x': {1: 's'}}, opset_version=17, do_constant_folding=fold)
    with torch.no_grad():
        y = m(x)
    x.numpy().astype('<f4').tofile(os.path.join(out_dir, 'x.bin'))
    y.numpy().astype('<f4').tofile(os.path.join(out_dir, 'y.bin'))


def externalize_bundle(src, dst):
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, 'manifest.json'), encoding='utf8') as f:
        man = json.load(f)
    dec = man['decoder']['file']
    for e in man['files']:
        if e['path'] != dec:
            shutil.copyfile(os.path.join(src, e['path']), os.path.join(dst, e['path']))
    onnx.save_model(onnx.load(os.path.join(src, dec)), os.path.join(dst, dec), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=dec + '.data', size_threshold=1024)
    listed = [(e['path'], e['role']) for e in man['files']] + [(dec + '.data', 'other')]
    man['files'], man['id'] = [file_entry(dst, path, role) for path, role in listed], man['id'] + '-ext'
    write_manifest(dst, man, LLM_BUNDLE)


if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    {'torch-linear': torch_linear, 'externalize-bundle': externalize_bundle}[cmd](*args)
