/**
 * Next-token choice from logits. Greedy is the default (SPEC §6: with top_p 0.01–0.1 the
 * original is effectively greedy); top-p (nucleus) with a temperature and an optional top-k
 * (HF's default 50) is available with a seeded RNG so runs are reproducible.
 */
import { createRng, type Rng } from '../../util/prng.js';

export type Sampling =
  | { readonly kind: 'greedy' }
  | { readonly kind: 'top-p'; readonly topP: number; readonly temperature: number; readonly topK?: number; readonly seed: number };

/** Index of the largest logit; the first wins ties (run.c `argmax`, the golden data's rule). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Samples from the smallest set of most likely tokens whose probability reaches `topP`. */
export function sampleTopP(logits: Float32Array, topP: number, temperature: number, rng: Rng, topK = 0): number {
  if (!(temperature > 0)) return argmax(logits);
  const n = logits.length;
  let order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK > 0 && topK < n) order = order.slice(0, topK);
  const max = logits[order[0]];
  const probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = probs.reduce((a, b) => a + b, 0);
  // Keep tokens until the cumulative probability reaches topP (the top token always stays).
  let kept = 0;
  let mass = 0;
  while (kept < probs.length && (kept === 0 || mass < topP * total)) mass += probs[kept++];
  let r = rng.next() * mass;
  for (let k = 0; k < kept; k++) {
    r -= probs[k];
    if (r < 0) return order[k];
  }
  return order[kept - 1];
}

/** A stateful chooser for one generation (the RNG advances across steps). */
export function createSampler(sampling: Sampling): (logits: Float32Array) => number {
  if (sampling.kind === 'greedy') return argmax;
  const { topP, temperature, topK, seed } = sampling;
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  const rng = createRng(seed);
  return (logits) => sampleTopP(logits, topP, temperature, rng, topK ?? 0);
}
