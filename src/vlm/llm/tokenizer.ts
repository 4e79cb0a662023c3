/**
 * The llama2.c tokenizer (`tokenizer.bin`, e.g. tok512.bin; ../shared/data/llm/README.md):
 *   int32 max_token_length, then per token: float32 score, int32 len, len raw bytes.
 * The vocabulary size is not stored: it comes from the model, and the file must be consumed
 * exactly, which is how a tokenizer that does not match its model is caught at load time.
 * encode/decode are ports of run.c's `encode` / `decode` (BPE by merge score, dummy-prefix
 * space, byte fallback `<0xXX>` = id byte + 3). Pieces are handled as latin1 strings, one
 * char per byte, so concatenation and lookup are byte-exact like run.c's strcmp.
 */
import { readFile } from 'node:fs/promises';
import { AppError, ErrorCodes } from '../../errors.js';

/** What the generator needs from a tokenizer (the Llama 32k one will implement the same). */
export interface LlmTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  encode(text: string, opts?: { bos?: boolean; eos?: boolean }): number[];
  /** Bytes that token `id` prints when it follows `prev` (run.c `decode`). */
  decodePiece(prev: number, id: number): Uint8Array;
  /** Text of `ids`; `prev` is the token before ids[0] (e.g. the last prompt token). */
  decode(ids: readonly number[], prev?: number): string;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export class Llama2cTokenizer implements LlmTokenizer {
  readonly bosId = 1;
  readonly eosId = 2;
  private readonly lookup = new Map<string, number>();

  private constructor(
    private readonly pieces: readonly string[],
    private readonly scores: Float32Array,
    readonly maxTokenLength: number,
  ) {
    pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
    });
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  static parse(bytes: Uint8Array, vocabSize: number, where = 'tokenizer'): Llama2cTokenizer {
    const fail = (msg: string): never => {
      throw new AppError(ErrorCodes.LLM_TOKENIZER, `${where}: ${msg}`);
    };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 4) fail('shorter than its 4-byte header');
    const maxLen = view.getInt32(0, true);
    if (!(maxLen > 0 && maxLen < 1 << 16)) fail(`max_token_length ${maxLen} is implausible (not a llama2.c tokenizer.bin?)`);
    const pieces: string[] = [];
    const scores = new Float32Array(vocabSize);
    let off = 4;
    for (let id = 0; id < vocabSize; id++) {
      if (off + 8 > bytes.byteLength) fail(`ends after ${id} tokens, but the model has a vocabulary of ${vocabSize}`);
      scores[id] = view.getFloat32(off, true);
      const len = view.getInt32(off + 4, true);
      off += 8;
      if (len < 0 || len > maxLen || off + len > bytes.byteLength) {
        fail(`token ${id} has length ${len} (max_token_length ${maxLen}, ${bytes.byteLength - off} bytes left): the file does not match a vocabulary of ${vocabSize}`);
      }
      pieces.push(Buffer.from(bytes.buffer, bytes.byteOffset + off, len).toString('latin1'));
      off += len;
    }
    if (off !== bytes.byteLength) {
      fail(`${bytes.byteLength - off} bytes left after ${vocabSize} tokens: the tokenizer has a larger vocabulary than the model`);
    }
    return new Llama2cTokenizer(pieces, scores, maxLen);
  }

  static async read(path: string, vocabSize: number): Promise<Llama2cTokenizer> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new AppError(ErrorCodes.LLM_TOKENIZER, `cannot read tokenizer ${path}: ${(e as Error).message}`, { cause: e });
    }
    return Llama2cTokenizer.parse(bytes, vocabSize, path);
  }

  /** The raw piece of `id` as bytes (no decode rules applied). */
  piece(id: number): Uint8Array {
    return Buffer.from(this.pieceString(id), 'latin1');
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const tokens: number[] = [];
    if (opts.bos ?? true) tokens.push(this.bosId);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 0) {
      // run.c: add_dummy_prefix is true by default (sentencepiece's leading "▁").
      const space = this.lookup.get(' ');
      if (space === undefined) throw new AppError(ErrorCodes.LLM_TOKENIZER, 'vocabulary has no " " piece for the dummy prefix');
      tokens.push(space);
    }
    // One piece per UTF-8 code point (at most 4 bytes), byte fallback (+3) when it is missing.
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const len = i + 1 - start;
      const nextIsCont = i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80;
      if (nextIsCont && len < 4) continue;
      const ch = bytes.toString('latin1', start, i + 1);
      const id = this.lookup.get(ch);
      if (id !== undefined) tokens.push(id);
      else for (let b = start; b <= i; b++) tokens.push(bytes[b] + 3);
      start = i + 1;
    }
    // Merge the adjacent pair with the highest score until none is in the vocabulary
    // (run.c includes BOS in the scan; the first pair wins ties).
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i < tokens.length - 1; i++) {
        const id = this.lookup.get(this.pieceString(tokens[i]) + this.pieceString(tokens[i + 1]));
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (opts.eos) tokens.push(this.eosId);
    return tokens;
  }

  decodePiece(prev: number, id: number): Uint8Array {
    let piece = this.pieceString(id);
    // After BOS sentencepiece strips the leading space (run.c decode).
    if (prev === this.bosId && piece.startsWith(' ')) piece = piece.slice(1);
    const byte = BYTE_PIECE.exec(piece);
    if (byte) return Uint8Array.of(parseInt(byte[1], 16));
    return Buffer.from(piece, 'latin1');
  }

  decode(ids: readonly number[], prev = -1): string {
    const parts: Uint8Array[] = [];
    let p = prev;
    for (const id of ids) {
      if (id !== this.bosId) parts.push(this.decodePiece(p, id));
      p = id;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  private pieceString(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new AppError(ErrorCodes.LLM_TOKENIZER, `token id ${id} is outside the vocabulary (0…${this.pieces.length - 1})`);
    return p;
  }
}

/** Streaming text for token-by-token output: UTF-8 sequences split across tokens come out whole. */
export class TokenTextStream {
  private readonly decoder = new TextDecoder('utf-8');
  constructor(
    private readonly tokenizer: LlmTokenizer,
    private prev: number,
  ) {}

  push(id: number): string {
    const bytes = this.tokenizer.decodePiece(this.prev, id);
    this.prev = id;
    return this.decoder.decode(bytes, { stream: true });
  }

  flush(): string {
    return this.decoder.decode();
  }
}
