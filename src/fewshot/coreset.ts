/**
 * Greedy k-centre coreset (PatchCore, Roth et al. 2022, §3.2): repeatedly keep the vector
 * farthest from everything kept so far. Distances are computed on a seeded random
 * projection (Johnson–Lindenstrauss), as PatchCore does, which keeps the cost at
 * target × count × d with d ≤ 32.
 */
import { createRng } from '../util/prng.js';

export const PROJECTED_DIM = 32;

export interface Coreset {
  readonly indices: Uint32Array;
  /**
   * Squared covering radius in the projected space: every input vector lies within it of a
   * kept one. A vector added later that also lies within it is already represented (used to
   * grow a bank by one reference without recomputing the coreset).
   */
  readonly radius2: number;
}

export function greedyCoreset(vectors: Float32Array, count: number, dim: number, target: number, seed: number): Uint32Array {
  return coresetWithRadius(vectors, count, dim, target, seed).indices;
}

export function coresetWithRadius(vectors: Float32Array, count: number, dim: number, target: number, seed: number): Coreset {
  if (target >= count) return { indices: Uint32Array.from({ length: count }, (_, i) => i), radius2: 0 };
  const d = Math.min(dim, PROJECTED_DIM);
  const proj = projectRows(vectors, count, dim, seed);
  const dist2 = (a: number, b: number): number => {
    let s = 0;
    for (let j = 0, x = a * d, y = b * d; j < d; j++) {
      const diff = proj[x + j] - proj[y + j];
      s += diff * diff;
    }
    return s;
  };
  // Exact greedy k-centre with the triangle inequality (as in Elkan's k-means): a point
  // assigned to centre a can only move to a new centre c when d(a, c) < 2·R(a), R(a) the
  // largest distance among a's points. So per new centre only the points of nearby centres
  // are visited; the plain loop visited all `count` points per centre (target × count × d).
  const minDist = new Float32Array(count);
  const members: number[][] = [];
  const radius2: number[] = [];
  const farthest: number[] = [];
  const chosen = new Uint32Array(target);
  const all: number[] = [];
  for (let i = 1; i < count; i++) {
    minDist[i] = dist2(i, 0);
    all.push(i);
  }
  const summarise = (c: number) => {
    let r = -1;
    let f = -1;
    for (const i of members[c]) {
      if (minDist[i] > r) {
        r = minDist[i];
        f = i;
      }
    }
    radius2[c] = r;
    farthest[c] = f;
  };
  members.push(all);
  summarise(0);
  let best = radius2[0];
  for (let k = 1; k < target; k++) {
    // Next centre: the point farthest from every centre (first such centre on ties).
    let owner = 0;
    for (let a = 1; a < k; a++) if (radius2[a] > radius2[owner]) owner = a;
    const c = farthest[owner];
    chosen[k] = c;
    const D2 = radius2[owner];
    members[owner] = members[owner].filter((i) => i !== c);
    const mine: number[] = [];
    for (let a = 0; a < k; a++) {
      // d(a, c) ≥ D (c's distance to its nearest centre), so radius R(a) ≤ D/2 cannot reach.
      if (4 * radius2[a] <= D2 || radius2[a] < 0) continue;
      if (dist2(chosen[a], c) >= 4 * radius2[a]) continue;
      const stay: number[] = [];
      for (const i of members[a]) {
        const s = dist2(i, c);
        if (s < minDist[i]) {
          minDist[i] = s;
          mine.push(i);
        } else {
          stay.push(i);
        }
      }
      if (stay.length !== members[a].length) {
        members[a] = stay;
        summarise(a);
      }
    }
    if (members[owner].length === 0 || farthest[owner] === c) summarise(owner);
    members.push(mine);
    summarise(k);
    best = -1;
    for (let a = 0; a <= k; a++) if (radius2[a] > best) best = radius2[a];
  }
  return { indices: chosen, radius2: Math.max(0, best) };
}

/**
 * For each of `count` new rows, the squared projected distance to its nearest bank row
 * (same projection as the coreset: same seed and dim).
 */
export function nearestProjected(bank: Float32Array, bankCount: number, rows: Float32Array, count: number, dim: number, seed: number): Float32Array {
  const d = Math.min(dim, PROJECTED_DIM);
  const pb = projectRows(bank, bankCount, dim, seed);
  const pr = projectRows(rows, count, dim, seed);
  const out = new Float32Array(count).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < count; i++) {
    const a = i * d;
    let m = Number.POSITIVE_INFINITY;
    for (let r = 0, o = 0; r < bankCount; r++, o += d) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = pr[a + j] - pb[o + j];
        s += diff * diff;
      }
      if (s < m) m = s;
    }
    out[i] = m;
  }
  return out;
}

/** count×dim → count×d (d = min(dim, 32)) with a seeded Gaussian matrix (identity when d = dim). */
export function projectRows(vectors: Float32Array, count: number, dim: number, seed: number): Float32Array {
  const d = Math.min(dim, PROJECTED_DIM);
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
