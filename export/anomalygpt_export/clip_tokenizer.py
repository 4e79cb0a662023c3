"""CLIP byte-level BPE tokenizer (the one ImageBind's text tower uses, SPEC §2), reading
`bpe_simple_vocab_16e6.txt.gz`: a '#version' line, then one merge "a b" per line.

Vocabulary construction (CLIP): the 256 byte symbols, the same with '</w>', one token per merge
(the first 48 894 merges of the real file), then <|startoftext|> and <|endoftext|>; that gives
49 408 ids with SOT 49406 and EOT 49407 for the real file. A shorter (synthetic) merge list gives
a proportionally smaller vocabulary, SOT/EOT staying the last two ids.

Text cleaning: ftfy.fix_text when the `ftfy` package is importable (it is not on this machine;
then the text is used as is), html.unescape twice, whitespace collapsed, lower case.
Pre-tokenisation uses the `regex` package's \\p{L}/\\p{N} classes when importable, else an `re`
equivalent that agrees on ASCII and on letters (numbers other than decimal digits may split
differently; the class-name sentences are plain ASCII).
"""
from __future__ import annotations

import gzip
import html
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

import torch

try:  # optional, as upstream
    import ftfy  # type: ignore
except ImportError:  # pragma: no cover - depends on the machine
    ftfy = None
try:
    import regex as _rx  # type: ignore
    HAVE_REGEX = True
    _PAT = _rx.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", _rx.IGNORECASE)
except ImportError:
    HAVE_REGEX = False
    _PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""", re.IGNORECASE)

SOT, EOT = '<|startoftext|>', '<|endoftext|>'
REAL_MERGES = 49152 - 256 - 2  # CLIP keeps merges[1 : 48895] of the file


@lru_cache()
def bytes_to_unicode() -> dict[int, str]:
    """Byte → printable unicode char: printable Latin-1 bytes map to themselves, the others to
    chr(256 + n) in byte order. Dict order matters: it is the id order of the first 256 tokens
    (printable bytes first, as CLIP builds it; so 'a</w>' is id 320 in the real vocabulary)."""
    keep = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    out = {b: chr(b) for b in keep}
    rest = [b for b in range(256) if b not in out]
    out.update({b: chr(256 + n) for n, b in enumerate(rest)})
    return out


def clean(text: str) -> str:
    if ftfy is not None:
        text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r'\s+', ' ', text).strip().lower()


def read_merges(path: str, limit: int = REAL_MERGES) -> list[tuple[str, str]]:
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        lines = f.read().split('\n')
    merges = []
    for line in lines[1:limit + 1]:  # line 0 is the '#version' header
        if not line:
            continue
        a, b = line.split()
        merges.append((a, b))
    return merges


class ClipTokenizer:
    def __init__(self, bpe_path: str):
        self.byte_enc = bytes_to_unicode()
        self.byte_dec = {v: k for k, v in self.byte_enc.items()}
        merges = read_merges(bpe_path)
        base = list(self.byte_enc.values())
        vocab = base + [v + '</w>' for v in base] + [a + b for a, b in merges] + [SOT, EOT]
        self.encoder = {t: i for i, t in enumerate(vocab)}
        if len(self.encoder) != len(vocab):
            raise ValueError(f'{bpe_path}: duplicate tokens in the BPE vocabulary')
        self.decoder = vocab
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot, self.eot = self.encoder[SOT], self.encoder[EOT]
        self._cache: dict[str, list[str]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.decoder)

    def bpe(self, token: str) -> list[str]:
        """Merge the lowest-ranked adjacent pair, all its non-overlapping occurrences left to right, until none is ranked."""
        if token in self._cache:
            return self._cache[token]
        word = list(token[:-1]) + [token[-1] + '</w>']
        while len(word) > 1:
            best = min(zip(word, word[1:]), key=lambda p: self.ranks.get(p, 1 << 30))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self._cache[token] = word
        return word

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in _PAT.findall(clean(text)):
            if piece in (SOT, EOT):
                ids.append(self.encoder[piece])
                continue
            sym = ''.join(self.byte_enc[b] for b in piece.encode('utf-8'))
            ids.extend(self.encoder[t] for t in self.bpe(sym))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        toks = []
        for i in ids:
            if i == self.eot:
                break
            if i != self.sot:
                toks.append(self.decoder[i])
        text = ''.join(toks)
        raw = bytearray(self.byte_dec[c] for c in text)
        return raw.decode('utf-8', errors='replace').replace('</w>', ' ').strip()

    def __call__(self, text: str, context: int = 77) -> list[int]:
        """[SOT] + ids + [EOT], truncated to `context` (EOT kept last), zero-padded."""
        ids = [self.sot] + self.encode(text) + [self.eot]
        if len(ids) > context:
            ids = ids[:context - 1] + [self.eot]
        return ids + [0] * (context - len(ids))

    def batch(self, texts: Sequence[str], context: int = 77) -> torch.Tensor:
        return torch.tensor([self(t, context) for t in texts], dtype=torch.long)


def write_synthetic_vocab(path: str, corpus: Sequence[str], merges: int) -> int:
    """A small, deterministic BPE merge file learned from `corpus` (greedy pair counts, ties by
    the pair's text), in the real file's format, so the real tokenizer code path runs in tests
    without the 1.3 MB vocabulary. Returns the number of merges written."""
    enc = bytes_to_unicode()
    words: Counter[tuple[str, ...]] = Counter()
    for text in corpus:
        for piece in _PAT.findall(clean(text)):
            sym = ''.join(enc[b] for b in piece.encode('utf-8'))
            words[tuple(sym[:-1]) + (sym[-1] + '</w>',)] += 1
    out: list[tuple[str, str]] = []
    while len(out) < merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for w, n in words.items():
            for p in zip(w, w[1:]):
                pairs[p] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        out.append(best)
        nxt: Counter[tuple[str, ...]] = Counter()
        for w, n in words.items():
            m, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    m.append(w[i] + w[i + 1])
                    i += 2
                else:
                    m.append(w[i])
                    i += 1
            nxt[tuple(m)] += n
        words = nxt
    body = '#version: synthetic (anomalygpt-edge export tests)\n' + ''.join(f'{a} {b}\n' for a, b in out)
    with open(path, 'wb') as f:  # mtime=0: same bytes on every run
        with gzip.GzipFile(fileobj=f, mode='wb', mtime=0, filename='') as gz:
            gz.write(body.encode('utf-8'))
    return len(out)
