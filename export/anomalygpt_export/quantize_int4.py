"""int4 weight-only quantisation of an ONNX LLM decoder (issue 4: "a quantized Vicuna (ONNX, int4,
fed inputs_embeds)"). Works on the TS-built Llama graphs (tools/models/llm/llama-graph.ts) and on
torch.onnx exports of the same interface (src/vlm/llm/llm-interface.ts); the interface (inputs,
outputs, KV cache) is untouched, only weight MatMuls change.

Rewrites, each into one com.microsoft MatMulNBits (contract: see int4_pack.py):
  MatMul(A, W)                W a constant 2-D initializer [K, N]       (TS graphs; torch with
                                                                         constant folding)
  MatMul(A, Transpose(W))     W [N, K], perm [1, 0]                     (torch without folding)
  Gemm(A, W[, C])             transA = 0, transB 0 ([K, N]) or 1 ([N, K]); alpha folded into the
                              weights, C (×beta) re-added by an Add     (torch Linear on 2-D input)
Everything else (attention MatMuls on activations, norms, RoPE tables) stays as it was.

Large models: the graph is loaded without its external data, each weight is read on its own
(memory map) and its quantised form appended to a single new data file, so a 27 GB float32
Vicuna-7B never sits in memory twice.

  python3 -m anomalygpt_export.quantize_int4 IN OUT [--block-size 32] [--symmetric]
      [--no-lm-head] [--min-elements N] [--accuracy-level L] [--external-data auto|yes|no] [--id ID]
IN/OUT: .onnx files, or LLM bundle folders (manifest.json; see int4_bundle.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from .int4_pack import Int4Weight, check_block_size
from .onnx_tensor_io import FLOAT_TYPES, TensorSink, atomic_write, external_files, is_external, read_array, tensor_nbytes

MS_DOMAIN = 'com.microsoft'
# One protobuf message cannot exceed 2 GiB; well below that the output goes to external data.
EXTERNAL_ABOVE_BYTES = 1 << 30


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Plan:
    """One node to rewrite: which initializer, in which layout, with which Gemm extras."""

    def __init__(self, node, weight: str, layout: str, alpha=1.0, bias=None, beta=1.0, transpose=None):
        self.node, self.weight, self.layout = node, weight, layout
        self.alpha, self.bias, self.beta, self.transpose = float(alpha), bias, float(beta), transpose

    @property
    def key(self):
        return (self.weight, self.layout, self.alpha)


def _plan_nodes(graph, inits, min_elements, quantize_lm_head):
    producers = {o: n for n in graph.node for o in n.output}
    graph_outputs = {o.name for o in graph.output}
    plans, skipped = [], []

    def candidate(node, name, layout, **kw):
        t = inits[name]
        if t.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16) or len(t.dims) != 2:
            return skipped.append({'node': node.name, 'weight': name, 'reason': 'not a 2-D float32/float16 initializer'})
        if int(np.prod(t.dims)) < min_elements:
            return skipped.append({'node': node.name, 'weight': name, 'reason': f'below min_elements ({min_elements})'})
        if not quantize_lm_head and (graph_outputs & set(node.output) or 'lm_head' in name):
            return skipped.append({'node': node.name, 'weight': name, 'reason': 'lm_head kept in float'})
        plans.append(_Plan(node, name, layout, **kw))

    for node in graph.node:
        if node.domain not in ('', 'ai.onnx') or len(node.input) < 2:
            continue
        b = node.input[1]
        if node.op_type == 'MatMul':
            if b in inits:
                candidate(node, b, 'kn')
            elif b in producers and producers[b].op_type == 'Transpose' and producers[b].input[0] in inits:
                tr = producers[b]
                src = inits[tr.input[0]]
                if len(src.dims) == 2 and list(_attrs(tr).get('perm', [1, 0])) == [1, 0]:
                    candidate(node, tr.input[0], 'nk', transpose=tr)
        elif node.op_type == 'Gemm' and b in inits:
            a = _attrs(node)
            if a.get('transA', 0):
                skipped.append({'node': node.name, 'weight': b, 'reason': 'Gemm with transA'})
                continue
            bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
            candidate(node, b, 'nk' if a.get('transB', 0) else 'kn', alpha=a.get('alpha', 1.0), bias=bias, beta=a.get('beta', 1.0))
    return plans, skipped


def _quantize_weight(t, base_dir, layout, alpha, block_size, symmetric):
    w = np.asarray(read_array(t, base_dir), dtype=np.float32)  # one tensor in memory at a time
    if alpha != 1.0:
        w = w * np.float32(alpha)
    w_nk = w.T if layout == 'kn' else w  # MatMulNBits stores one row per output feature
    return Int4Weight(w_nk, block_size, symmetric)


def _rewrite(plan, names, q, block_size, accuracy_level, fresh):
    """The replacement nodes for one planned node (MatMulNBits, plus Mul/Add for a Gemm bias)."""
    node = plan.node
    out = node.output[0]
    mm_out = fresh(f'{out}_int4') if plan.bias else out
    inputs = [node.input[0], names['b'], names['scales']] + ([names['zp']] if 'zp' in names else [])
    attrs = {'K': q.k, 'N': q.n, 'bits': 4, 'block_size': block_size}
    if accuracy_level is not None:
        attrs['accuracy_level'] = accuracy_level
    nodes = [helper.make_node('MatMulNBits', inputs, [mm_out], name=fresh(f'{node.name or out}_MatMulNBits'), domain=MS_DOMAIN, **attrs)]
    if plan.bias:
        bias = plan.bias
        if plan.beta != 1.0:
            bias = fresh(f'{out}_beta_bias')
            nodes.append(helper.make_node('Mul', [plan.bias, names['beta']], [bias], name=fresh(f'{out}_beta')))
        nodes.append(helper.make_node('Add', [mm_out, bias], [out], name=fresh(f'{out}_bias')))
    return nodes


def quantize_onnx_int4(in_path, out_path, *, block_size=32, symmetric=False, quantize_lm_head=True, min_elements=1024,
                       accuracy_level=None, external_data='auto') -> dict:
    """Quantises the weight MatMuls of `in_path` to 4 bits and writes `out_path` (plus
    `<out_path>.data` in external mode). Returns statistics (counts, bytes, weight errors)."""
    check_block_size(block_size)
    in_path, out_path = os.path.abspath(in_path), os.path.abspath(out_path)
    if in_path == out_path:
        raise ValueError('refusing to overwrite the input model in place')
    base_dir = os.path.dirname(in_path)
    model = onnx.load(in_path, load_external_data=False)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    in_files = sorted(external_files(graph.initializer, base_dir))
    bytes_in = os.path.getsize(in_path) + sum(os.path.getsize(f) for f in in_files)

    plans, skipped = _plan_nodes(graph, inits, min_elements, quantize_lm_head)
    replaced = {p.weight for p in plans}
    replaced_bytes = sum(tensor_nbytes(inits[w]) for w in replaced)
    if external_data == 'auto':
        estimate = sum(tensor_nbytes(t) for t in graph.initializer) - replaced_bytes * 5 // 6
        use_external = bool(in_files) or estimate > EXTERNAL_ABOVE_BYTES
    else:
        use_external = external_data == 'yes'
    data_path = f'{out_path}.data' if use_external else None
    if data_path and os.path.normpath(data_path) in in_files:
        raise ValueError(f'{data_path} is a data file of the input model; choose another output name')

    used = {n for node in graph.node for n in list(node.input) + list(node.output)} | set(inits)

    def fresh(base):
        name, i = base, 1
        while name in used:
            name, i = f'{base}_{i}', i + 1
        used.add(name)
        return name

    by_weight = {}
    for p in plans:
        by_weight.setdefault(p.weight, []).append(p)
    still_used = {n for node in graph.node for n in node.input if n in replaced and not any(p.node is node or p.transpose is node for p in by_weight[n])}
    still_used |= {o.name for o in graph.output if o.name in replaced} | (_subgraph_names(graph) & replaced)

    sink = TensorSink(data_path)
    new_inits, names_of, stats_t = [], {}, []
    try:
        for t in graph.initializer:
            if t.name in replaced:
                for i, key in enumerate(dict.fromkeys(p.key for p in by_weight[t.name])):
                    q = _quantize_weight(t, base_dir, key[1], key[2], block_size, symmetric)
                    tag = f'_v{i}' if i else ''  # the same initializer used in two layouts (rare)
                    names = {'b': fresh(f'{t.name}{tag}_Q4'), 'scales': fresh(f'{t.name}{tag}_scales')}
                    new_inits += [sink.new(names['b'], q.b), sink.new(names['scales'], q.scales.astype(FLOAT_TYPES[t.data_type]))]
                    if q.zero_points is not None:
                        names['zp'] = fresh(f'{t.name}{tag}_zp')
                        new_inits.append(sink.new(names['zp'], q.zero_points))
                    names_of[key] = (names, q)
                    stats_t.append({'weight': t.name, 'K': q.k, 'N': q.n, 'bytes_before': tensor_nbytes(t), 'bytes_after': q.nbytes, 'rel_rmse': q.rel_rmse})
                if t.name in still_used:
                    new_inits.append(sink.keep(t, base_dir))
                elif not is_external(t):
                    t.ClearField('raw_data')  # frees the float copy of an inline model early
                    t.ClearField('float_data')
            else:
                new_inits.append(sink.keep(t, base_dir))
        for p in plans:
            if p.beta != 1.0 and p.bias and 'beta' not in names_of[p.key][0]:
                beta = fresh(f'{p.weight}_beta')
                new_inits.append(helper.make_tensor(beta, TensorProto.FLOAT, [], [p.beta]))
                names_of[p.key][0]['beta'] = beta
        sink.commit()
    finally:
        sink.close()

    plan_of = {id(p.node): p for p in plans}
    new_nodes = []
    for node in graph.node:
        p = plan_of.get(id(node))
        new_nodes += _rewrite(p, *names_of[p.key], block_size, accuracy_level, fresh) if p else [node]
    # Transposes that only fed rewritten MatMuls are dead now.
    consumed = {n for node in new_nodes for n in node.input} | {o.name for o in graph.output}
    dead = {id(p.transpose) for p in plans if p.transpose is not None and p.transpose.output[0] not in consumed}
    new_nodes = [n for n in new_nodes if id(n) not in dead]
    produced = {o for n in new_nodes for o in n.output} | {i.name for i in graph.input} | {t.name for t in new_inits}
    kept_vi = [v for v in graph.value_info if v.name in produced]
    kept_inputs = [i for i in graph.input if not (i.name in replaced and i.name not in still_used)]

    copies = [_copy(onnx.NodeProto, n) for n in new_nodes]
    inits_copy = [_copy(TensorProto, t) for t in new_inits]
    del graph.node[:], graph.initializer[:], graph.value_info[:], graph.input[:]
    graph.node.extend(copies)
    graph.initializer.extend(inits_copy)
    graph.value_info.extend(kept_vi)
    graph.input.extend(kept_inputs)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    atomic_write(out_path, model.SerializeToString())

    out_files = [out_path] + ([data_path] if data_path else [])
    return {
        'block_size': block_size, 'symmetric': symmetric, 'quantize_lm_head': quantize_lm_head, 'min_elements': min_elements,
        'accuracy_level': accuracy_level, 'external_data': use_external,
        'nodes_rewritten': len(plans),
        'by_pattern': {k: sum(1 for p in plans if _pattern(p) == k) for k in ('MatMul', 'Transpose+MatMul', 'Gemm')},
        'tensors_quantized': len(stats_t), 'skipped': skipped,
        'weight_bytes_before': sum(s['bytes_before'] for s in stats_t), 'weight_bytes_after': sum(s['bytes_after'] for s in stats_t),
        'file_bytes_before': bytes_in, 'file_bytes_after': sum(os.path.getsize(f) for f in out_files),
        'max_weight_rel_rmse': max((s['rel_rmse'] for s in stats_t), default=0.0),
        'input_files': [in_path] + in_files, 'output_files': out_files, 'tensors': stats_t,
    }


def _subgraph_names(graph) -> set:
    """Every name read inside If/Loop/Scan bodies: such a weight must stay (it is not rewritten there)."""
    names = set()
    for node in graph.node:
        for a in node.attribute:
            for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)):
                names |= {n for sub in g.node for n in sub.input} | _subgraph_names(g)
    return names


def _copy(cls, msg):
    out = cls()
    out.CopyFrom(msg)
    return out


def _pattern(p) -> str:
    return 'Gemm' if p.node.op_type == 'Gemm' else 'Transpose+MatMul' if p.transpose is not None else 'MatMul'


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description='int4 (MatMulNBits) weight quantisation of an ONNX decoder or LLM bundle')
    ap.add_argument('input', help='.onnx file or LLM bundle folder')
    ap.add_argument('output', help='.onnx file or bundle folder to write')
    ap.add_argument('--block-size', type=int, default=32)
    ap.add_argument('--symmetric', action='store_true', help='no zero points (implicit 8)')
    ap.add_argument('--no-lm-head', action='store_true', help='keep the classifier (graph-output MatMul) in float')
    ap.add_argument('--min-elements', type=int, default=1024)
    ap.add_argument('--accuracy-level', type=int, choices=[0, 1, 2, 3, 4], default=None)
    ap.add_argument('--external-data', choices=['auto', 'yes', 'no'], default='auto')
    ap.add_argument('--id', help='bundle id of the output (default: <input id>-int4)')
    ap.add_argument('--verbose', action='store_true', help='print per-tensor figures too')
    a = ap.parse_args(argv)
    opts = dict(block_size=a.block_size, symmetric=a.symmetric, quantize_lm_head=not a.no_lm_head, min_elements=a.min_elements,
                accuracy_level=a.accuracy_level, external_data=a.external_data)
    if os.path.isdir(a.input):
        # Imported here: plain .onnx files need neither the manifests nor python3-jsonschema.
        from .int4_bundle import quantize_bundle
        from .manifest_schema import EX_DATAERR, ManifestError
        try:
            stats = quantize_bundle(a.input, a.output, bundle_id=a.id, **opts)
        except ManifestError as e:
            print(f'quantize_int4: {e}', file=sys.stderr)
            return EX_DATAERR
    else:
        stats = quantize_onnx_int4(a.input, a.output, **opts)
    if not a.verbose:
        stats.pop('tensors', None)
    print(json.dumps(stats, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
