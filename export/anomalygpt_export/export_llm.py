"""The LLM sub-bundle of the AnomalyGPT bundle (models/anomalygpt/README.md "6. llm/"):
Vicuna-7B v0 HF shards + PandaGPT LoRA merged (SPEC §8) → a folder src/vlm/llm/llm-bundle.ts loads:

  llm.onnx [+ llm.onnx.data]  decoder with the src/vlm/llm/llm-interface.ts interface, opset 17
  embeddings.bin              model.embed_tokens.weight, raw LE float32 [vocab, hidden]
  tokenizer.bin               tokenizer.model converted to llama2.c format
  manifest.json               src/vlm/llm/llm-manifest.ts (ropeLayout 'half', stop ids [EOS, "##"])
  reference/                  PyTorch reference outputs for the tests (not in the manifest)

`random_config` (reduced dims, e.g. {"hidden": 64, "layers": 2, "heads": 4, "intermediate": 172,
"contextLength": 256}) builds the same bundle from random weights; without `tokenizer_model` it
trains a LLaMA-like SentencePiece model (sp_corpus.py) whose size becomes the vocabulary.

  python3 -m anomalygpt_export.export_llm OUT --vicuna-dir DIR [--pandagpt-ckpt PT] [--int4]
  python3 -m anomalygpt_export.export_llm OUT --random-config JSON [--pandagpt-ckpt PT] [--seed N]
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
from typing import Any

import torch

from .bundle_io import file_entry as _entry, sha256_file as _sha256
from .hf_checkpoint import load_hf_weights
from .llama_hf import LlamaConfig, LlamaForCausalLM, init_random_
from .llm_reference import max_abs_diff_forward, write_reference
from .lora_merge import apply_lora_side_branch_, load_delta, merge_lora_, set_lora_scale_
from .llm_onnx import export_decoder
from .manifest_schema import LLM_BUNDLE as SCHEMA, exits_on_manifest_error, validate_block, write_manifest
from .sentencepiece_to_llama2c import load_processor, to_llama2c_bytes
from .sp_corpus import train_llama_like

DEFAULT_RANDOM_VOCAB = 700
LORA_RANK, LORA_ALPHA = 32, 32.0  # SPEC §8


def _tokenizer(vicuna_dir, tokenizer_model, random_config) -> tuple[bytes, dict[str, int], str]:
    """The SentencePiece model bytes, HF added tokens (added_tokens.json next to it, if any) and
    a description of where they came from."""
    path = tokenizer_model or (os.path.join(vicuna_dir, 'tokenizer.model') if vicuna_dir else None)
    if path:
        with open(path, 'rb') as f:
            sp_bytes = f.read()
        added_path = os.path.join(os.path.dirname(os.path.abspath(path)), 'added_tokens.json')
        added: dict[str, int] = {}
        if os.path.isfile(added_path):
            with open(added_path, encoding='utf-8') as f:
                added = {str(k): int(v) for k, v in json.load(f).items()}
        return sp_bytes, added, os.path.basename(path) + (f' + added_tokens.json {added}' if added else '')
    vocab = int(random_config.get('vocab', random_config.get('vocabSize', DEFAULT_RANDOM_VOCAB)))
    return train_llama_like(vocab), {}, f'LLaMA-like SentencePiece BPE trained on the SPEC §6 prompts (vocab {vocab}, export/anomalygpt_export/sp_corpus.py)'


def export_llm_bundle(out_dir, *, vicuna_dir=None, pandagpt_ckpt=None, random_config=None, tokenizer_model=None, seed=0,
                      quantize_int4=False, bundle_id='vicuna-7b-v0-pandagpt') -> dict:
    if (vicuna_dir is None) == (random_config is None):
        raise ValueError('give exactly one of vicuna_dir and random_config')
    validate_block(SCHEMA, 'id', bundle_id, where='LLM bundle id')  # before the slow part; the manifest is checked whole at the end
    log = print if vicuna_dir else (lambda *_a, **_k: None)
    torch.manual_seed(seed)
    sp_bytes, added, sp_source = _tokenizer(vicuna_dir, tokenizer_model, random_config or {})
    sp = load_processor(sp_bytes)
    tok_bin, tok_info = to_llama2c_bytes(sp_bytes, added)
    vocab = tok_info['vocabSize']

    if vicuna_dir:
        config = LlamaConfig.from_hf_json(os.path.join(vicuna_dir, 'config.json'))
    else:
        dims = {k: v for k, v in random_config.items() if k not in ('vocab', 'vocabSize')}
        config = LlamaConfig.from_dict({**dims, 'vocab_size': vocab})
    # The runtime checks this too (E_LLM_TOKENIZER); failing here names the files involved.
    if vocab != config.vocab_size:
        raise ValueError(f'tokenizer ({sp_source}) has {vocab} tokens, the LLM a vocabulary of {config.vocab_size}'
                         + ('' if added else ' (a pad token added by FastChat would be listed in added_tokens.json)'))
    if tok_info['hashHash'] is None:
        raise ValueError(f'tokenizer ({sp_source}) has no "##" piece for the stop id (SPEC §6)')
    if tok_info['yesFirst'] == tok_info['noFirst']:
        raise ValueError('"Yes" and "No" start with the same token; the verdict cannot tell them apart')

    model = LlamaForCausalLM(config).eval()
    source: list[str] = []
    if vicuna_dir:
        log(f'loading {vicuna_dir} ({config})')
        loaded = load_hf_weights(model, vicuna_dir, log)
        source.append(f'HF Llama shards {", ".join(loaded["files"])} of {os.path.basename(os.path.abspath(vicuna_dir))} ({loaded["tensors"]} tensors)')
    else:
        init_random_(model, seed)
        source.append(f'random weights, seed {seed}, {config}')

    reference_model = model
    lora: dict[str, Any] | None = None
    if pandagpt_ckpt:
        delta = load_delta(pandagpt_ckpt)
        if random_config is not None:
            # Small enough to keep the unmerged network: the reference runs LoRA as a side branch,
            # so the ONNX logits check the merge end to end.
            reference_model = copy.deepcopy(model)
            apply_lora_side_branch_(reference_model, delta, rank=LORA_RANK, alpha=LORA_ALPHA)
        lora = merge_lora_(model, delta, rank=LORA_RANK, alpha=LORA_ALPHA)
        if reference_model is not model:
            # merged vs side branch must agree; base vs side branch must not (else the check is vacuous).
            lora['forwardMaxAbsDiff'] = max_abs_diff_forward(model, reference_model, seed=seed)
            set_lora_scale_(reference_model, 0.0)
            lora['loraEffectMaxAbs'] = max_abs_diff_forward(model, reference_model, seed=seed)
            set_lora_scale_(reference_model, LORA_ALPHA / LORA_RANK)
        del delta
        source.append(f'PandaGPT LoRA {os.path.basename(pandagpt_ckpt)} (sha256 {_sha256(pandagpt_ckpt)}) merged: '
                      f'{lora["matchedKeys"]} keys, prefixes {lora["prefixes"]}')
        log(f'LoRA merged: {lora}')

    os.makedirs(out_dir, exist_ok=True)
    embed = model.model.embed_tokens.weight.detach()
    ref = write_reference(reference_model, embed, sp, os.path.join(out_dir, 'reference'), seed=seed)
    ref['lora'] = lora
    del reference_model

    log('exporting llm.onnx')
    decoder_files = export_decoder(model, out_dir, 'llm.onnx', log=log)
    int4: dict[str, Any] | None = None
    if quantize_int4:
        from .quantize_int4 import quantize_onnx_int4  # helper module, imported only when asked for
        f32_dir = os.path.join(out_dir, '.f32')
        os.makedirs(f32_dir, exist_ok=True)
        for f in decoder_files:
            os.replace(os.path.join(out_dir, f), os.path.join(f32_dir, f))
        int4 = quantize_onnx_int4(os.path.join(f32_dir, 'llm.onnx'), os.path.join(out_dir, 'llm.onnx'))
        shutil.rmtree(f32_dir)
        decoder_files = [os.path.basename(f) for f in int4['output_files']]  # llm.onnx first, then its data file
    embed.cpu().float().numpy().astype('<f4').tofile(os.path.join(out_dir, 'embeddings.bin'))
    with open(os.path.join(out_dir, 'tokenizer.bin'), 'wb') as f:
        f.write(tok_bin)

    files = [_entry(out_dir, decoder_files[0], 'decoder')] + [_entry(out_dir, f, 'other') for f in decoder_files[1:]]
    files += [_entry(out_dir, 'embeddings.bin', 'embeddings'), _entry(out_dir, 'tokenizer.bin', 'tokenizer')]
    notes = (f'RoPE layout half (HF weights as stored); rmsNormEps {config.rms_norm_eps} from the config; '
             f'ids: "##" {tok_info["hashHash"]}, "###" {tok_info["hashHashHash"]}, {tok_info["yesPiece"]} {tok_info["yesFirst"]}, '
             f'{tok_info["noPiece"]} {tok_info["noFirst"]}; decoder float32' + (', int4 weights (MatMulNBits)' if int4 else ''))
    manifest = {
        'schema': SCHEMA, 'id': bundle_id, 'version': '1', 'kind': 'llm', 'files': files,
        'config': config.to_manifest('half'),
        'decoder': {'file': 'llm.onnx', 'opset': 17},
        'embeddings': {'file': 'embeddings.bin', 'dtype': 'float32', 'shape': [config.vocab_size, config.hidden_size]},
        'tokenizer': {'file': 'tokenizer.bin', 'format': 'llama2c', 'vocabSize': vocab,
                      'bosId': tok_info['bosId'], 'eosId': tok_info['eosId']},
        # SPEC §6: the seed stops on the "##" piece (2277 in LLaMA); EOS ends generation too.
        'generation': {'stopTokenIds': [tok_info['eosId'], tok_info['hashHash']]},
        'provenance': {'source': '; '.join(source + [f'tokenizer {sp_source} (sha256 {hashlib.sha256(sp_bytes).hexdigest()})']),
                       'license': 'LLaMA model license + Vicuna/PandaGPT terms' if vicuna_dir else 'test artefact (random weights)',
                       'builtBy': 'export/anomalygpt_export/export_llm.py', 'notes': notes},
    }
    with open(os.path.join(out_dir, 'reference', 'reference.json'), 'w', encoding='utf-8') as f:
        json.dump({**ref, 'tokens': tok_info}, f, indent=1, ensure_ascii=False)
    write_manifest(out_dir, manifest, SCHEMA)
    if int4:
        int4 = {k: v for k, v in int4.items() if k != 'tensors'}  # the per-tensor list is long at 7B
    return {'manifest': manifest, 'tokens': tok_info, 'lora': lora, 'int4': int4, 'reference': ref, 'outDir': os.path.abspath(out_dir)}


@exits_on_manifest_error
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--vicuna-dir')
    ap.add_argument('--pandagpt-ckpt')
    ap.add_argument('--random-config', help='JSON of reduced dims (tests)')
    ap.add_argument('--tokenizer-model')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--int4', action='store_true')
    ap.add_argument('--id', default='vicuna-7b-v0-pandagpt')
    a = ap.parse_args(argv)
    res = export_llm_bundle(a.out_dir, vicuna_dir=a.vicuna_dir, pandagpt_ckpt=a.pandagpt_ckpt,
                            random_config=json.loads(a.random_config) if a.random_config else None,
                            tokenizer_model=a.tokenizer_model, seed=a.seed, quantize_int4=a.int4, bundle_id=a.id)
    print(json.dumps({k: res[k] for k in ('tokens', 'lora', 'outDir')}, ensure_ascii=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())
