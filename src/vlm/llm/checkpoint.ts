/**
 * Reader for llama2.c "legacy" (version 0) checkpoints such as stories260K.bin
 * (../shared/data/llm/README.md): 7 int32 header fields, then float32 tensors back to back,
 * every matrix row-major (out, in) so y = W·x. Two blocks that run.c skips
 * (freq_cis_real / freq_cis_imag, seq_len × head_size/2 each) sit between rms_final and the
 * optional unshared classifier; a reader that forgets them would take the RoPE tables for wcls.
 */
import { readFile } from 'node:fs/promises';
import { AppError, ErrorCodes } from '../../errors.js';
import type { LlmConfig } from './llm-interface.js';

/** Per-layer tensors are stacked along the first axis (layer-major), as in the file. */
export interface LlamaWeights {
  readonly config: LlmConfig;
  /** [vocab, hidden] */
  readonly tokenEmbedding: Float32Array;
  /** [layers, hidden] */
  readonly rmsAtt: Float32Array;
  /** [layers, heads·headDim, hidden] */
  readonly wq: Float32Array;
  /** [layers, kvHeads·headDim, hidden] */
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  /** [layers, hidden, heads·headDim] */
  readonly wo: Float32Array;
  readonly rmsFfn: Float32Array;
  /** [layers, intermediate, hidden] */
  readonly w1: Float32Array;
  /** [layers, hidden, intermediate] */
  readonly w2: Float32Array;
  readonly w3: Float32Array;
  /** [hidden] */
  readonly rmsFinal: Float32Array;
  /** [vocab, hidden]; the same array as tokenEmbedding when the classifier is shared. */
  readonly wcls: Float32Array;
  readonly sharedClassifier: boolean;
}

const HEADER_BYTES = 7 * 4;

/** llama2.c defaults that the v0 header does not carry (run.c hard-codes them). */
const LLAMA2C_RMS_EPS = 1e-5;
const LLAMA2C_ROPE_THETA = 10000;

export function parseLlama2cCheckpoint(bytes: Uint8Array, where = 'checkpoint'): LlamaWeights {
  const fail = (msg: string): never => {
    throw new AppError(ErrorCodes.LLM_CHECKPOINT, `${where}: ${msg}`);
  };
  if (bytes.byteLength < HEADER_BYTES) fail(`${bytes.byteLength} bytes is shorter than the 28-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabRaw, seqLen] = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const vocab = Math.abs(vocabRaw);
  for (const [k, v] of Object.entries({ dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen })) {
    if (!(v > 0 && v < 1 << 24)) fail(`header field ${k} = ${v} is not a plausible size (not a llama2.c v0 file?)`);
  }
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0) fail(`dim ${dim}, n_heads ${nHeads}, n_kv_heads ${nKvHeads} are inconsistent`);
  const headDim = dim / nHeads;
  const kvDim = nKvHeads * headDim;
  const shared = vocabRaw > 0;
  const sizes = {
    tokenEmbedding: vocab * dim,
    rmsAtt: nLayers * dim,
    wq: nLayers * dim * dim,
    wk: nLayers * kvDim * dim,
    wv: nLayers * kvDim * dim,
    wo: nLayers * dim * dim,
    rmsFfn: nLayers * dim,
    w1: nLayers * hiddenDim * dim,
    w2: nLayers * dim * hiddenDim,
    w3: nLayers * hiddenDim * dim,
    rmsFinal: dim,
    freqCis: 2 * seqLen * (headDim / 2),
    wcls: shared ? 0 : vocab * dim,
  };
  const floats = Object.values(sizes).reduce((a, b) => a + b, 0);
  const expected = HEADER_BYTES + 4 * floats;
  if (bytes.byteLength !== expected) {
    fail(`${bytes.byteLength} bytes, but the header (dim ${dim}, layers ${nLayers}, vocab ${vocabRaw}, seq_len ${seqLen}) implies ${expected}`);
  }
  // One aligned little-endian copy of the float area; tensors are views into it.
  const all = new Float32Array(floats);
  for (let i = 0; i < floats; i++) all[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  let off = 0;
  const take = (n: number): Float32Array => {
    const a = all.subarray(off, off + n);
    off += n;
    return a;
  };
  const tokenEmbedding = take(sizes.tokenEmbedding);
  const rmsAtt = take(sizes.rmsAtt);
  const wq = take(sizes.wq);
  const wk = take(sizes.wk);
  const wv = take(sizes.wv);
  const wo = take(sizes.wo);
  const rmsFfn = take(sizes.rmsFfn);
  const w1 = take(sizes.w1);
  const w2 = take(sizes.w2);
  const w3 = take(sizes.w3);
  const rmsFinal = take(sizes.rmsFinal);
  take(sizes.freqCis); // unused: run.c recomputes RoPE
  const wcls = shared ? tokenEmbedding : take(sizes.wcls);
  const config: LlmConfig = {
    hidden: dim,
    intermediate: hiddenDim,
    layers: nLayers,
    heads: nHeads,
    kvHeads: nKvHeads,
    headDim,
    vocabSize: vocab,
    contextLength: seqLen,
    rmsNormEps: LLAMA2C_RMS_EPS,
    ropeTheta: LLAMA2C_ROPE_THETA,
    ropeLayout: 'interleaved',
  };
  return { config, tokenEmbedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, wcls, sharedClassifier: shared };
}

export async function readLlama2cCheckpoint(path: string): Promise<LlamaWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new AppError(ErrorCodes.LLM_CHECKPOINT, `cannot read checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseLlama2cCheckpoint(bytes, path);
}
