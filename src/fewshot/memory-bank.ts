/**
 * The few-shot memory bank (SPEC §4): per tap, the unit-norm patch vectors of the normal
 * reference images. Layers are never mixed. Bounded by a greedy k-centre coreset
 * (PatchCore) so time and memory stay flat as the number of references grows. Every row
 * remembers the reference it came from (leave-one-out scoring masks a reference's own rows).
 */
import { coresetWithRadius, nearestProjected } from './coreset.js';

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
  /** Set when a coreset bounded the tap: its projection seed and squared covering radius. */
  readonly coreset?: { readonly seed: number; readonly radius2: number };
}

export type BankMeta = Omit<BankTap, 'vectors' | 'count' | 'coreset'>;

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
export function buildBankTap(meta: BankMeta, rows: readonly Float32Array[], maxCount: number, seed: number): BankTap {
  return buildBankTapWithSources(meta, rows, rows.map((_, i) => i), maxCount, seed).tap;
}

/**
 * As buildBankTap, with `owners[i]` the reference that `rows[i]` came from (several row
 * blocks may share one owner: the bank variants of one image). Returns the owner of every
 * kept row. The coreset is computed once over all references.
 */
export function buildBankTapWithSources(
  meta: BankMeta,
  rows: readonly Float32Array[],
  owners: readonly number[],
  maxCount: number,
  seed: number,
): { tap: BankTap; sources: Uint16Array } {
  const all = concatRows(rows);
  const count = all.length / meta.channels;
  const sourceOf = new Uint16Array(count);
  let o = 0;
  rows.forEach((r, i) => {
    const n = r.length / meta.channels;
    sourceOf.fill(owners[i], o, o + n);
    o += n;
  });
  if (count <= maxCount) return { tap: { ...meta, count, vectors: all }, sources: sourceOf };
  const { indices, radius2 } = coresetWithRadius(all, count, meta.channels, maxCount, seed);
  const vectors = new Float32Array(indices.length * meta.channels);
  const sources = new Uint16Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    vectors.set(all.subarray(indices[i] * meta.channels, (indices[i] + 1) * meta.channels), i * meta.channels);
    sources[i] = sourceOf[indices[i]];
  }
  return { tap: { ...meta, count: indices.length, vectors, coreset: { seed, radius2 } }, sources };
}

/**
 * One more reference's rows appended to a bank tap. Without a coreset every row is added;
 * with one, only rows outside its covering radius (the rest are already represented), so
 * the bank grows by what is new about the reference, not by its size.
 */
export function appendToBankTap(tap: BankTap, rows: Float32Array, owner: number, sources: Uint16Array): { tap: BankTap; sources: Uint16Array } {
  const n = rows.length / tap.channels;
  let keep: number[];
  if (tap.coreset) {
    const near = nearestProjected(tap.vectors, tap.count, rows, n, tap.channels, tap.coreset.seed);
    keep = [];
    for (let i = 0; i < n; i++) if (near[i] > tap.coreset.radius2) keep.push(i);
  } else {
    keep = Array.from({ length: n }, (_, i) => i);
  }
  const vectors = new Float32Array((tap.count + keep.length) * tap.channels);
  vectors.set(tap.vectors);
  keep.forEach((r, i) => vectors.set(rows.subarray(r * tap.channels, (r + 1) * tap.channels), (tap.count + i) * tap.channels));
  const out = new Uint16Array(tap.count + keep.length);
  out.set(sources);
  out.fill(owner, tap.count);
  return { tap: { ...tap, count: tap.count + keep.length, vectors }, sources: out };
}
