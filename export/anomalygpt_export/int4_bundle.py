"""LLM bundle folder → int4 bundle folder (src/vlm/llm/llm-manifest.ts, schema anomalygpt-edge/llm-bundle@1).

The decoder is quantised (quantize_int4.quantize_onnx_int4); every other listed file
(embeddings, tokenizer, …) is copied and re-hashed, the decoder's old external data files are
dropped, and a new external data file (if any) is listed with role "other" — the schema has no
dedicated role for it. The manifest gets new sha256/bytes, id "<id>-int4" unless given, and
provenance that records the quantisation.
"""
from __future__ import annotations

import json
import os
import shutil

from .bundle_io import file_entry as _entry
from .manifest_schema import LLM_BUNDLE, validate_block, validate_manifest, write_manifest
from .quantize_int4 import quantize_onnx_int4


def quantize_bundle(in_dir: str, out_dir: str, *, bundle_id: str | None = None, **opts) -> dict:
    in_dir, out_dir = os.path.abspath(in_dir), os.path.abspath(out_dir)
    if in_dir == out_dir:
        raise ValueError('output bundle folder must differ from the input')
    manifest_in = os.path.join(in_dir, 'manifest.json')
    with open(manifest_in, encoding='utf8') as f:
        m = json.load(f)
    # The input must be an LLM bundle the runtime would load; the output id must be one it accepts.
    validate_manifest(m, LLM_BUNDLE, where=manifest_in)
    bundle_id = bundle_id or f"{m['id']}-int4"
    validate_block(LLM_BUNDLE, 'id', bundle_id, where='--id')
    decoder = m['decoder']['file']
    os.makedirs(out_dir, exist_ok=True)
    stats = quantize_onnx_int4(os.path.join(in_dir, decoder), os.path.join(out_dir, decoder), **opts)
    consumed = {os.path.normpath(p) for p in stats['input_files']}

    files = []
    for e in m['files']:
        src = os.path.normpath(os.path.join(in_dir, e['path']))
        if e['path'] == decoder:
            files.append(_entry(out_dir, decoder, e['role']))
            for data in stats['output_files'][1:]:
                files.append(_entry(out_dir, os.path.relpath(data, out_dir), 'other'))
            continue
        if src in consumed:
            continue  # the float decoder's external data: replaced by the new data file
        dst = os.path.join(out_dir, e['path'])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        entry = _entry(out_dir, e['path'], e['role'])
        if entry['sha256'] != e['sha256']:
            raise ValueError(f'{src}: sha256 {entry["sha256"]} does not match the manifest ({e["sha256"]}); input bundle is damaged')
        files.append(entry)

    scheme = 'symmetric (implicit zero point 8)' if stats['symmetric'] else 'asymmetric with 4-bit zero points'
    note = (f"int4 weight-only quantisation by export/anomalygpt_export/quantize_int4.py: {stats['nodes_rewritten']} MatMul/Gemm nodes "
            f"→ com.microsoft MatMulNBits (bits 4, block {stats['block_size']}, {scheme}"
            f"{'' if stats['quantize_lm_head'] else ', lm_head kept in float'}); quantised weights "
            f"{stats['weight_bytes_before']} → {stats['weight_bytes_after']} bytes, max weight rel. RMSE {stats['max_weight_rel_rmse']:.4f}")
    prov = dict(m['provenance'])
    prov['notes'] = f"{prov['notes']}; {note}" if prov.get('notes') else note
    prov['builtBy'] = f"{prov['builtBy']} + export/anomalygpt_export/quantize_int4.py"
    m = {**m, 'id': bundle_id, 'files': files, 'provenance': prov}
    write_manifest(out_dir, m, LLM_BUNDLE)
    return {**stats, 'bundle': {'id': m['id'], 'dir': out_dir, 'files': files}}
