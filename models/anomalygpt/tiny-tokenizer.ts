/**
 * A small tokenizer in llama2.c `tokenizer.bin` format for the tiny AnomalyGPT bundle. It is
 * NOT Vicuna's (the real bundle carries the 32k LLaMA SentencePiece vocabulary): specials
 * <unk>, <s>, </s> (ids 0–2, as LLaMA), 256 byte-fallback pieces <0xXX> (ids 3–258, as LLaMA),
 * every printable ASCII character, then the prefixes of a few words of the AnomalyGPT prompts,
 * with and without a leading space, so that BPE turns " Yes", " No", "###", " Human" … into
 * single tokens the way SentencePiece's "▁Yes" is one piece. Scores grow with piece length and
 * favour a leading space, which makes the merges build those prefix chains.
 */

const WORDS = [
  'Yes', 'No', '###', 'Human', 'Assistant', 'Img', 'anomaly', 'image', 'photo', 'the', 'there', 'This', 'is', 'of', 'for',
  'detection', 'which', 'should', 'be', 'without', 'any', 'damage', 'flaw', 'defect', 'scratch', 'hole', 'broken', 'part',
  'bottle', 'at', 'an', 'in', 'top', 'bottom', 'left', 'right', 'center',
];

export function tinyTokenizerPieces(): string[] {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  for (let c = 32; c < 127; c++) pieces.push(String.fromCharCode(c));
  const seen = new Set(pieces);
  for (const word of WORDS) {
    for (const w of [word, ` ${word}`]) {
      for (let n = 2; n <= w.length; n++) {
        const p = w.slice(0, n);
        if (!seen.has(p)) {
          seen.add(p);
          pieces.push(p);
        }
      }
    }
  }
  return pieces;
}

/** Serialised tokenizer.bin with `vocab` entries (padded with unused pieces). */
export function tinyTokenizerFile(vocab: number): Uint8Array {
  const pieces = tinyTokenizerPieces();
  if (pieces.length > vocab) throw new Error(`tiny tokenizer needs ${pieces.length} pieces, vocab is ${vocab}`);
  for (let i = 0; pieces.length < vocab; i++) pieces.push(`<unused${i}>`);
  const enc = pieces.map((p) => Buffer.from(p, 'latin1'));
  const maxLen = Math.max(...enc.map((b) => b.length));
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeInt32LE(maxLen);
  enc.forEach((b, id) => {
    const h = Buffer.alloc(8);
    const piece = pieces[id];
    // Merged pieces: longer first, a leading space first among equals; singles and specials 0.
    const merged = id >= 259 && piece.length > 1 && !piece.startsWith('<unused');
    h.writeFloatLE(merged ? piece.length * 10 + (piece.startsWith(' ') ? 5 : 0) : id >= 259 && !piece.startsWith('<unused') ? 0 : -1e6, 0);
    h.writeInt32LE(b.length, 4);
    parts.push(h, b);
  });
  return Buffer.concat(parts);
}
