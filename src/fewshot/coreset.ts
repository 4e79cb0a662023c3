/**
 * Greedy k-centre coreset (PatchCore, Roth et al. 2022, §3.2): repeatedly keep the vector
 * farthest from everything kept so far. Distances are computed on a seeded random
 * projection (Johnson–Lindenstrauss), as PatchCore does, which keeps the cost at
 * target × count × d with d ≤ 32.
 */
import { createRng } from '../util/prng.js';

export function greedyCoreset(vectors: Float32Array, count: number, dim: number, target: number, seed: number): Uint32Array {
  if (target >= count) return Uint32Array.from({ length: count }, (_, i) => i);
  const d = Math.min(dim, 32);
  const proj = project(vectors, count, dim, d, seed);
  const minDist = new Float32Array(count).fill(Number.POSITIVE_INFINITY);
  const chosen = new Uint32Array(target);
  let current = 0;
  for (let k = 0; k < target; k++) {
    chosen[k] = current;
    // Below every distance: a chosen vector is never picked again, even when the rest are
    // exact duplicates of chosen ones (all at distance 0, e.g. flat image areas).
    minDist[current] = -1;
    const c = current * d;
    let best = -1;
    let bestIndex = 0;
    for (let i = 0, o = 0; i < count; i++, o += d) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = proj[o + j] - proj[c + j];
        s += diff * diff;
      }
      if (s < minDist[i]) minDist[i] = s;
      if (minDist[i] > best) {
        best = minDist[i];
        bestIndex = i;
      }
    }
    current = bestIndex;
  }
  return chosen;
}

/** count×dim → count×d with a seeded Gaussian matrix (identity when d = dim). */
function project(vectors: Float32Array, count: number, dim: number, d: number, seed: number): Float32Array {
  if (d === dim) return vectors;
  const rng = createRng(seed);
  const m = new Float32Array(dim * d);
  for (let i = 0; i < m.length; i++) m[i] = rng.normal() / Math.sqrt(d);
  const out = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    const v = i * dim;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += vectors[v + k] * m[k * d + j];
      out[i * d + j] = s;
    }
  }
  return out;
}
