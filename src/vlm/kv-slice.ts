/**
 * A KV cache cut down to its first `length` positions. The decoder's caches are immutable,
 * so a longer one (a verdict prefill, a previous dialogue turn) can seed any continuation that
 * shares its first positions; cutting copies [1, kv, length, head_dim] per layer and tensor.
 */
import * as ort from 'onnxruntime-node';
import { AppError, ErrorCodes } from '../errors.js';
import { KvCache } from './llm/llm-decoder.js';
import { presentKeyName, presentValueName, type LlmConfig } from './llm/llm-interface.js';

function cut(t: ort.Tensor, length: number): ort.Tensor {
  const [b, heads, total, hd] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(b * heads * length * hd);
  for (let h = 0; h < b * heads; h++) out.set(src.subarray(h * total * hd, (h * total + length) * hd), h * length * hd);
  return new ort.Tensor('float32', out, [b, heads, length, hd]);
}

export function sliceCache(cache: KvCache, length: number, config: LlmConfig): KvCache {
  if (length === cache.length) return cache;
  if (!(Number.isInteger(length) && length >= 0 && length <= cache.length)) {
    throw new AppError(ErrorCodes.USAGE, `cannot cut a cache of ${cache.length} positions to ${length}`);
  }
  const outputs: Record<string, ort.Tensor> = {};
  for (let i = 0; i < config.layers; i++) {
    outputs[presentKeyName(i)] = cut(cache.keys[i], length);
    outputs[presentValueName(i)] = cut(cache.values[i], length);
  }
  return KvCache.fromOutputs(outputs as ort.InferenceSession.ReturnType, config);
}

/** Length of the common prefix of two id lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
