/**
 * The pruned greedy k-centre (triangle inequality) must pick exactly what the plain greedy
 * picks; growing a coreset bank by one reference keeps only rows outside its radius.
 */
import t from 'tap';
import { coresetWithRadius, nearestProjected, projectRows } from '../../src/fewshot/coreset.js';
import { appendToBankTap, buildBankTapWithSources } from '../../src/fewshot/memory-bank.js';
import { rng } from './fixtures.js';

/** The textbook greedy on the same projection: every point, every centre. */
function plainGreedy(v: Float32Array, count: number, dim: number, target: number, seed: number): { idx: number[]; r2: number } {
  const d = Math.min(dim, 32);
  const p = projectRows(v, count, dim, seed);
  const min = new Float64Array(count).fill(Infinity);
  const idx: number[] = [];
  let cur = 0;
  let best = 0;
  for (let k = 0; k < target; k++) {
    idx.push(cur);
    min[cur] = -1;
    best = -1;
    let next = 0;
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (p[i * d + j] - p[cur * d + j]) ** 2;
      if (s < min[i]) min[i] = s;
      if (min[i] > best) { best = min[i]; next = i; }
    }
    cur = next;
  }
  return { idx, r2: best };
}

/** Clustered rows (like patch features: many near-duplicates), unit norm. */
function rows(count: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const centres = Array.from({ length: 15 }, () => Array.from({ length: dim }, () => r() - 0.5));
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const c = centres[Math.floor(r() * centres.length)];
    let n = 0;
    for (let j = 0; j < dim; j++) { out[i * dim + j] = c[j] + 0.1 * (r() - 0.5); n += out[i * dim + j] ** 2; }
    for (let j = 0; j < dim; j++) out[i * dim + j] /= Math.sqrt(n);
  }
  return out;
}

t.test('pruned greedy = plain greedy (indices and covering radius)', async (t) => {
  for (const [dim, count, target, seed] of [[16, 600, 50, 1], [48, 900, 300, 2], [96, 500, 499, 3]]) {
    const v = rows(count, dim, seed);
    const fast = coresetWithRadius(v, count, dim, target, seed);
    const slow = plainGreedy(v, count, dim, target, seed);
    t.same([...fast.indices], slow.idx, `dim ${dim}, ${count} → ${target}: same picks in the same order`);
    t.ok(Math.abs(fast.radius2 - slow.r2) < 1e-6, `radius² ${fast.radius2.toFixed(6)} = ${slow.r2.toFixed(6)}`);
  }
});

t.test('appendToBankTap: all rows without a coreset; only uncovered rows with one', async (t) => {
  const meta = { name: 'b', output: 'tap_b', channels: 48, height: 10, width: 10 };
  const a = rows(300, 48, 4);
  const plain = buildBankTapWithSources(meta, [a.subarray(0, 100 * 48), a.subarray(100 * 48)], [0, 1], 1000, 1);
  t.equal(plain.tap.coreset, undefined);
  const grown = appendToBankTap(plain.tap, rows(100, 48, 5), 2, plain.sources);
  t.equal(grown.tap.count, 400, 'no coreset: every new row');
  t.same([...grown.sources.subarray(295, 305)], [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);

  const capped = buildBankTapWithSources(meta, [a], [0], 120, 1);
  t.equal(capped.tap.count, 120);
  t.ok(capped.tap.coreset && capped.tap.coreset.radius2 > 0, 'coreset radius recorded');
  const r2 = capped.tap.coreset!.radius2;
  // Rows already in the bank are covered; far-away rows (another part) are not.
  const same = a.slice(0, 50 * 48);
  const other = rows(50, 48, 99);
  const near = nearestProjected(capped.tap.vectors, 120, other, 50, 48, 1);
  const uncovered = [...near].filter((x) => x > r2).length;
  const out = appendToBankTap(capped.tap, new Float32Array([...same, ...other]), 7, capped.sources);
  t.equal(out.tap.count, 120 + uncovered, `only the ${uncovered} uncovered rows of 100 are added`);
  t.ok(uncovered > 0 && uncovered <= 50, 'none of the rows already represented is added');
  t.ok([...out.sources.subarray(120)].every((s) => s === 7), 'new rows belong to the new reference');
  t.same(out.tap.vectors.subarray(0, 120 * 48), capped.tap.vectors, 'existing rows unchanged');
});
