/**
 * One call of the ONNX decoder (src/vlm/llm/llm-interface.ts): feeds S new embeddings after a cache
 * of P positions and returns the logits plus the grown cache. Positions continue P, P+1, …
 * and the attention mask is all ones (SPEC §6: no padding at batch size 1).
 */
import * as ort from 'onnxruntime-node';
import { AppError, ErrorCodes } from '../../errors.js';
import {
  INPUT_ATTENTION_MASK,
  INPUT_EMBEDS,
  INPUT_POSITION_IDS,
  OUTPUT_LOGITS,
  expectedInputNames,
  expectedOutputNames,
  pastKeyName,
  pastValueName,
  presentKeyName,
  presentValueName,
  type LlmConfig,
} from './llm-interface.js';

/**
 * Keys/values of every layer for the first `length` positions. Immutable: the decoder never
 * writes into a cache it was given, so one prefix cache can seed several continuations
 * (dialogue turns branching from a shared prefix).
 */
export class KvCache {
  private constructor(
    readonly length: number,
    readonly keys: readonly ort.Tensor[],
    readonly values: readonly ort.Tensor[],
  ) {}

  static empty(config: LlmConfig): KvCache {
    const dims = [1, config.kvHeads, 0, config.headDim];
    const empty = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(0), dims);
    return new KvCache(0, Array.from({ length: config.layers }, empty), Array.from({ length: config.layers }, empty));
  }

  static fromOutputs(outputs: ort.InferenceSession.ReturnType, config: LlmConfig): KvCache {
    const keys: ort.Tensor[] = [];
    const values: ort.Tensor[] = [];
    for (let i = 0; i < config.layers; i++) {
      keys.push(outputs[presentKeyName(i)]);
      values.push(outputs[presentValueName(i)]);
    }
    return new KvCache(Number(keys[0].dims[2]), keys, values);
  }
}

export interface DecoderOutput {
  /** [S, vocab] row-major for `logits: 'all'`, [vocab] (the last position) for `'last'`. */
  readonly logits: Float32Array;
  readonly cache: KvCache;
}

export class LlmDecoder {
  constructor(
    readonly session: ort.InferenceSession,
    readonly config: LlmConfig,
  ) {
    // A graph that does not implement the interface fails here, at load time.
    const inputs = new Set(session.inputNames);
    const outputs = new Set(session.outputNames);
    const missing = [
      ...expectedInputNames(config.layers).filter((n) => !inputs.has(n)).map((n) => `input ${n}`),
      ...expectedOutputNames(config.layers).filter((n) => !outputs.has(n)).map((n) => `output ${n}`),
    ];
    if (missing.length > 0) {
      throw new AppError(ErrorCodes.MODEL_SHAPE, `LLM decoder does not implement the interface for ${config.layers} layers: missing ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''}`);
    }
  }

  emptyCache(): KvCache {
    return KvCache.empty(this.config);
  }

  /** Positions still free after `cache`. */
  remaining(cache: KvCache): number {
    return this.config.contextLength - cache.length;
  }

  async forward(embeds: Float32Array, length: number, past: KvCache = this.emptyCache(), opts: { logits?: 'last' | 'all' } = {}): Promise<DecoderOutput> {
    const c = this.config;
    if (!Number.isInteger(length) || length < 1 || embeds.length !== length * c.hidden) {
      throw new AppError(ErrorCodes.MODEL_SHAPE, `inputs_embeds: ${embeds.length} floats for ${length} positions of width ${c.hidden}`);
    }
    const total = past.length + length;
    if (total > c.contextLength) {
      throw new AppError(
        ErrorCodes.LLM_CONTEXT,
        `${length} new positions after ${past.length} cached ones exceed the context length of ${c.contextLength}`,
        { details: { cached: past.length, length, contextLength: c.contextLength } },
      );
    }
    const positions = new BigInt64Array(length);
    for (let i = 0; i < length; i++) positions[i] = BigInt(past.length + i);
    const feeds: Record<string, ort.Tensor> = {
      [INPUT_EMBEDS]: new ort.Tensor('float32', embeds, [1, length, c.hidden]),
      [INPUT_ATTENTION_MASK]: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      [INPUT_POSITION_IDS]: new ort.Tensor('int64', positions, [1, length]),
    };
    for (let i = 0; i < c.layers; i++) {
      feeds[pastKeyName(i)] = past.keys[i];
      feeds[pastValueName(i)] = past.values[i];
    }
    const out = await this.session.run(feeds);
    const logits = out[OUTPUT_LOGITS].data as Float32Array;
    const v = c.vocabSize;
    return {
      logits: opts.logits === 'all' ? logits : logits.subarray((length - 1) * v, length * v),
      cache: KvCache.fromOutputs(out, c),
    };
  }
}
