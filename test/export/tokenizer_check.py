"""SentencePiece's own encode/decode of a list of strings, for comparing the llama2.c conversion
+ the TS Llama2cTokenizer (a port of run.c's BPE) against SentencePiece (README "6. llm/": the
32k tokenizer's agreement is the open check). Segments are encoded without BOS, as the seed
tokenizes them with add_special_tokens=False (SPEC §6).

  PYTHONPATH=export python3 test/export/tokenizer_check.py --model tokenizer.model [--out-dir DIR] < strings.json > cases.json
      (with --out-dir, the llama2.c conversion is written to DIR/tokenizer.bin)
  PYTHONPATH=export python3 test/export/tokenizer_check.py --train-vocab 900 --out-dir DIR < strings.json > cases.json
      (trains the LLaMA-like test tokenizer of sp_corpus.py into DIR/tokenizer.model and writes
       DIR/tokenizer.bin; the extra lines put é, ï, 中文 and space runs in its vocabulary, emoji stay out)

stdin: a JSON array of strings. stdout: {"info": {...}, "cases": [{text, ids, pieces, decoded}]}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import sentencepiece as spm

from anomalygpt_export.sentencepiece_to_llama2c import load_processor, to_llama2c_bytes
from anomalygpt_export.sp_corpus import train_llama_like

# Extra training lines: accented Latin and two CJK characters enter the vocabulary (with a
# merge "中文"); anything else non-ASCII (emoji, other CJK) exercises byte fallback. Indented
# lines give whitespace-only pieces ("▁▁", "▁▁▁▁") as LLaMA's vocabulary has.
EXTRA_LINES = ['café résumé naïve café', '中文 中文 中文 中文', 'déjà vu, déjà vu', 'Crème brûlée',
               *[f'{" " * n}indented {n}' for n in (2, 4, 4, 8, 8, 8)], 'two  spaces  between  words']


def cases(sp: spm.SentencePieceProcessor, texts: list[str]) -> list[dict]:
    out = []
    for t in texts:
        ids = sp.encode(t)
        out.append({'text': t, 'ids': ids, 'pieces': [sp.id_to_piece(i) for i in ids], 'decoded': sp.decode(ids)})
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', help='an existing tokenizer.model')
    ap.add_argument('--train-vocab', type=int, help='train the LLaMA-like test tokenizer with this vocabulary')
    ap.add_argument('--out-dir', help='where tokenizer.bin (and, with --train-vocab, tokenizer.model) go')
    a = ap.parse_args(argv)
    if bool(a.model) == bool(a.train_vocab):
        ap.error('give exactly one of --model and --train-vocab')
    if a.train_vocab:
        if not a.out_dir:
            ap.error('--train-vocab needs --out-dir')
        model = train_llama_like(a.train_vocab, EXTRA_LINES)
        os.makedirs(a.out_dir, exist_ok=True)
        with open(os.path.join(a.out_dir, 'tokenizer.model'), 'wb') as f:
            f.write(model)
        data, info = to_llama2c_bytes(model)
        with open(os.path.join(a.out_dir, 'tokenizer.bin'), 'wb') as f:
            f.write(data)
    else:
        model = a.model
        data, info = to_llama2c_bytes(model)
        if a.out_dir:
            os.makedirs(a.out_dir, exist_ok=True)
            with open(os.path.join(a.out_dir, 'tokenizer.bin'), 'wb') as f:
                f.write(data)
    texts = json.load(sys.stdin)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise SystemExit('stdin must be a JSON array of strings')
    json.dump({'info': info, 'cases': cases(load_processor(model), texts)}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
