"""SentencePiece tokenizer.model → llama2.c tokenizer.bin (the format src/vlm/llm/tokenizer.ts reads;
README "6. llm/" step 5), written the way llama2.c's tokenizer.py exports LLaMA's tokenizer:

  int32 max_token_length, then per id: float32 score, int32 byte length, the UTF-8 bytes,
  where the piece has "▁" (U+2581) replaced by " ", byte pieces stay "<0xXX>" (run.c maps them
  to id byte + 3 itself), and BOS / EOS are written as "\\n<s>\\n" / "\\n</s>\\n" like tokenizer.py.

The format has no piece types, so the converter checks what run.c's encode assumes of the ids:
<unk>, <s>, </s> at 0, 1, 2 and byte piece b at id b + 3; anything else is an error.

  python3 -m anomalygpt_export.sentencepiece_to_llama2c tokenizer.model tokenizer.bin
"""
from __future__ import annotations

import struct
import sys
from typing import Any

import sentencepiece as spm

RUN_C_MIN_SCORE = -1e10


def load_processor(model: str | bytes) -> spm.SentencePieceProcessor:
    if isinstance(model, bytes):
        return spm.SentencePieceProcessor(model_proto=model)
    sp = spm.SentencePieceProcessor()
    sp.Load(model)
    return sp


def llama2c_pieces(sp: spm.SentencePieceProcessor) -> tuple[list[bytes], list[float]]:
    n = sp.get_piece_size()
    if (sp.unk_id(), sp.bos_id(), sp.eos_id()) != (0, 1, 2):
        raise ValueError(f'special ids unk/bos/eos are {sp.unk_id()}/{sp.bos_id()}/{sp.eos_id()}, run.c assumes 0/1/2')
    pieces: list[bytes] = []
    scores: list[float] = []
    bytes_seen = 0
    for i in range(n):
        p = sp.id_to_piece(i)
        if sp.is_byte(i):
            # run.c's byte fallback emits id = byte + 3, so byte pieces must sit at 3…258 in order.
            if i - 3 != int(p[3:5], 16) or not (p.startswith('<0x') and p.endswith('>')):
                raise ValueError(f'byte piece {p!r} has id {i}; run.c needs <0xXX> at id XX + 3')
            bytes_seen += 1
        elif i == sp.bos_id():
            p = '\n<s>\n'
        elif i == sp.eos_id():
            p = '\n</s>\n'
        elif sp.is_control(i):
            raise ValueError(f'control piece {p!r} at id {i}: run.c cannot keep it out of merges')
        pieces.append(p.replace('\u2581', ' ').encode('utf-8'))
        scores.append(float(sp.get_score(i)))
    if bytes_seen not in (0, 256):
        raise ValueError(f'{bytes_seen} byte pieces; byte fallback needs all 256')
    # run.c (and src/vlm/llm/tokenizer.ts) start the best merge score at -1e10: a piece scored at or
    # below it could never be merged there, while SentencePiece would merge it.
    low = [i for i, sc in enumerate(scores) if sc <= RUN_C_MIN_SCORE and i > 2 and not sp.is_byte(i)]
    if low:
        raise ValueError(f'{len(low)} pieces score <= {RUN_C_MIN_SCORE:g} (e.g. id {low[0]} {sp.id_to_piece(low[0])!r}); '
                         'run.c would never merge them')
    return pieces, scores


def added_pieces(sp: spm.SentencePieceProcessor, added: dict[str, int]) -> list[bytes]:
    """HF `added_tokens.json` entries (Vicuna v0: {"[PAD]": 32000}, FastChat's apply_delta adds a
    pad token and grows the embedding to 32001 rows [from memory of FastChat v0.1.10, unverified])
    appended after the SentencePiece ids; they must continue them without gaps."""
    n = sp.get_piece_size()
    by_id = sorted((i, t) for t, i in added.items())
    if [i for i, _ in by_id] != list(range(n, n + len(by_id))):
        raise ValueError(f'added tokens {added} do not continue the SentencePiece ids at {n}')
    return [t.encode('utf-8') for _, t in by_id]


def to_llama2c_bytes(model: str | bytes, added: dict[str, int] | None = None) -> tuple[bytes, dict[str, Any]]:
    """tokenizer.bin bytes and token_info. Added tokens get the lowest score in the file: run.c
    only reaches them if a merge spells them out exactly, which SentencePiece never does."""
    sp = load_processor(model)
    pieces, scores = llama2c_pieces(sp)
    extra = added_pieces(sp, added or {})
    pieces += extra
    scores += [min(scores) - 1.0] * len(extra)
    max_len = max(len(p) for p in pieces)
    out = bytearray(struct.pack('<i', max_len))
    for p, s in zip(pieces, scores):
        out += struct.pack('<fi', s, len(p)) + p
    return bytes(out), {**token_info(sp), 'vocabSize': len(pieces), 'added': dict(added or {})}


def token_info(sp: spm.SentencePieceProcessor) -> dict[str, Any]:
    """Ids the manifest and the verdict need: vocabulary, BOS/EOS, the "##" stop piece (SPEC §6:
    2277 in LLaMA), "###" and the first ids of "Yes" / "No" (SPEC §6 verdict, README: 3869 / 1939 [inferred])."""
    def pid(p: str) -> int | None:
        i = sp.piece_to_id(p)
        return None if i == sp.unk_id() and p != sp.id_to_piece(sp.unk_id()) else i

    return {
        'vocabSize': sp.get_piece_size(), 'bosId': sp.bos_id(), 'eosId': sp.eos_id(),
        'minScore': min(sp.get_score(i) for i in range(3, sp.get_piece_size())),
        'hashHash': pid('##'), 'hashHashHash': pid('###'),
        'yesFirst': sp.encode('Yes')[0], 'noFirst': sp.encode('No')[0],
        'yesPiece': sp.id_to_piece(sp.encode('Yes')[0]), 'noPiece': sp.id_to_piece(sp.encode('No')[0]),
    }


def convert(model_path: str, out_path: str) -> dict[str, Any]:
    data, info = to_llama2c_bytes(model_path)
    with open(out_path, 'wb') as f:
        f.write(data)
    return info


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    print(convert(args[0], args[1]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
