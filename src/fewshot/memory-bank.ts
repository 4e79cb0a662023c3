/**
 * The few-shot memory bank (SPEC §4): per tap, the unit-norm patch vectors of the normal
 * reference images. Layers are never mixed. Bounded by a greedy k-centre coreset
 * (PatchCore) so time and memory stay flat as the number of references grows.
 */
import { greedyCoreset } from './coreset.js';

export interface BankTap {
  readonly name: string;
  readonly output: string;
  readonly channels: number;
  /** Feature-map size the bank was built at (the recipe's input size / stride). */
  readonly height: number;
  readonly width: number;
  readonly count: number;
  /** count×channels, row-major, unit norm. */
  readonly vectors: Float32Array;
}

export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Builds one bank tap from per-image rows, subsampled to at most `maxCount` vectors.
 * `seed` makes the coreset's random projection reproducible.
 */
export function buildBankTap(
  meta: { name: string; output: string; channels: number; height: number; width: number },
  rows: readonly Float32Array[],
  maxCount: number,
  seed: number,
): BankTap {
  const all = concatRows(rows);
  const count = all.length / meta.channels;
  if (count <= maxCount) return { ...meta, count, vectors: all };
  const keep = greedyCoreset(all, count, meta.channels, maxCount, seed);
  const vectors = new Float32Array(keep.length * meta.channels);
  for (let i = 0; i < keep.length; i++) {
    vectors.set(all.subarray(keep[i] * meta.channels, (keep[i] + 1) * meta.channels), i * meta.channels);
  }
  return { ...meta, count: keep.length, vectors };
}
