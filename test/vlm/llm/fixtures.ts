/**
 * Shared by the LLM tests: random Llama weights at tiny sizes (serialised in llama2.c's v0
 * format, so the reader is exercised too), a synthetic llama2.c tokenizer file, the location
 * of the real stories260K data, and a bundle opened on one CPU thread (2-core test machine).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseLlama2cCheckpoint, type LlamaWeights } from '../../../src/vlm/llm/checkpoint.js';
import { loadLlmBundle, type LlmBundle } from '../../../src/vlm/llm/llm-bundle.js';
import { createLogger } from '../../../src/log.js';
import { createRng } from '../../../src/util/prng.js';

export const SHARED_LLM = resolve('../shared/data/llm');
export const STORIES_CKPT = join(SHARED_LLM, 'stories260K.bin');
export const STORIES_TOK = join(SHARED_LLM, 'tok512.bin');
export const GOLDEN = join(SHARED_LLM, 'greedy_once_upon_a_time.json');
export const sharedLlmMissing = (): string | false =>
  existsSync(STORIES_CKPT) && existsSync(STORIES_TOK) && existsSync(GOLDEN) ? false : `stories260K data absent (${SHARED_LLM}); skipped`;

export interface Golden {
  prompt: string;
  prompt_ids: number[];
  generated_ids: number[];
  n_generated: number;
  generated_text: string;
  full_text: string;
}

export interface TinyDims {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  seqLen: number;
  shared: boolean;
}

export const TINY: TinyDims = { dim: 32, hidden: 56, layers: 2, heads: 4, kvHeads: 2, vocab: 300, seqLen: 48, shared: false };

/** A llama2.c v0 checkpoint file with random weights (RMSNorm gains near 1). */
export function randomCheckpoint(d: TinyDims, seed: number): Uint8Array {
  const hd = d.dim / d.heads;
  const kvDim = d.kvHeads * hd;
  const rng = createRng(seed);
  const header = [d.dim, d.hidden, d.layers, d.heads, d.kvHeads, d.shared ? d.vocab : -d.vocab, d.seqLen];
  const counts: [number, 'w' | 'g' | 'z'][] = [
    [d.vocab * d.dim, 'w'],
    [d.layers * d.dim, 'g'],
    [d.layers * d.dim * d.dim, 'w'],
    [d.layers * kvDim * d.dim, 'w'],
    [d.layers * kvDim * d.dim, 'w'],
    [d.layers * d.dim * d.dim, 'w'],
    [d.layers * d.dim, 'g'],
    [d.layers * d.hidden * d.dim, 'w'],
    [d.layers * d.dim * d.hidden, 'w'],
    [d.layers * d.hidden * d.dim, 'w'],
    [d.dim, 'g'],
    [d.seqLen * hd, 'z'], // freq_cis_real + imag (skipped by readers)
    [d.shared ? 0 : d.vocab * d.dim, 'w'],
  ];
  const total = counts.reduce((a, [n]) => a + n, 0);
  const buf = new ArrayBuffer(28 + 4 * total);
  const view = new DataView(buf);
  header.forEach((v, i) => view.setInt32(4 * i, v, true));
  let off = 28;
  for (const [n, kind] of counts) {
    for (let i = 0; i < n; i++, off += 4) {
      const v = kind === 'g' ? 1 + 0.1 * rng.normal() : kind === 'z' ? 0 : 0.3 * rng.normal();
      view.setFloat32(off, v, true);
    }
  }
  return new Uint8Array(buf);
}

export const randomWeights = (d: TinyDims = TINY, seed = 7): LlamaWeights => parseLlama2cCheckpoint(randomCheckpoint(d, seed), 'random');

/** A llama2.c tokenizer.bin of `vocab` tokens: specials, 256 byte tokens, then `extra` pieces. */
export function tokenizerFile(vocab: number, extra: readonly string[] = [' ', 'a', 'b', ' a', 'ab', ' ab']): Uint8Array {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  for (let i = 0; pieces.length < vocab; i++) pieces.push(extra[i] ?? `x${i}`);
  const enc = pieces.map((p) => Buffer.from(p, 'utf8'));
  const maxLen = Math.max(...enc.map((b) => b.length));
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeInt32LE(maxLen);
  enc.forEach((b, id) => {
    const h = Buffer.alloc(8);
    h.writeFloatLE(id < 259 ? 0 : -(id - 259), 0);
    h.writeInt32LE(b.length, 4);
    parts.push(h, b);
  });
  return Buffer.concat(parts);
}

export async function openBundle(dir: string): Promise<LlmBundle> {
  return loadLlmBundle(dir, { logger: createLogger({ level: 'silent' }), executionProviders: ['cpu'], intraOpThreads: 1 });
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
