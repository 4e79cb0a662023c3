import t from 'tap';
import { greedyCoreset } from '../../src/fewshot/coreset.js';
import { buildBankTap, concatRows } from '../../src/fewshot/memory-bank.js';
import { rng } from './fixtures.js';

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/** `clusters` tight clusters of `per` points each, centres spread over [-1, 1]^dim. */
function clustered(clusters: number, per: number, dim: number, spread: number, seed: number): Float32Array {
  const r = rng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => 2 * r() - 1));
  const out = new Float32Array(clusters * per * dim);
  for (let i = 0; i < clusters * per; i++) {
    // Interleave clusters so cluster membership is not the index order.
    const c = centres[i % clusters];
    for (let d = 0; d < dim; d++) out[i * dim + d] = c[d] + spread * gauss(r);
  }
  return out;
}

/** max over points of the distance to the nearest chosen centre (the k-centre objective). */
function coverRadius(v: Float32Array, count: number, dim: number, chosen: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < count; i++) {
    let best = Infinity;
    for (let k = 0; k < chosen.length; k++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (v[i * dim + d] - v[chosen[k] * dim + d]) ** 2;
      best = Math.min(best, s);
    }
    worst = Math.max(worst, best);
  }
  return Math.sqrt(worst);
}

function randomSubset(count: number, target: number, seed: number): number[] {
  const r = rng(seed);
  const idx = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < target; i++) {
    const j = i + Math.floor(r() * (count - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, target);
}

t.test('greedyCoreset: target distinct indices, first 0, deterministic per seed', async (t) => {
  const dim = 48; // > 32: the random projection is used
  const count = 300;
  const v = clustered(12, 25, dim, 0.05, 1);
  for (const target of [1, 7, 40, 299]) {
    const a = greedyCoreset(v, count, dim, target, 5);
    t.equal(a.length, target, `target ${target}: length`);
    t.equal(new Set(a).size, target, `target ${target}: distinct`);
    t.equal(a[0], 0, 'starts at index 0');
    t.ok([...a].every((i) => i < count), 'indices in range');
    t.same(greedyCoreset(v, count, dim, target, 5), a, 'same seed, same result');
  }
  t.same([...greedyCoreset(v, count, dim, 300, 1)], Array.from({ length: 300 }, (_, i) => i), 'target ≥ count: everything, in order');
  t.same([...greedyCoreset(v, count, dim, 500, 1)].length, 300);
});

t.test('greedyCoreset: k-centre radius shrinks as target grows, far below a random subset on clustered data', async (t) => {
  const dim = 16; // ≤ 32: distances are exact, so the greedy guarantee holds as stated
  const clusters = 10;
  const count = clusters * 40;
  const v = clustered(clusters, 40, dim, 0.02, 2);
  let previous = Infinity;
  for (const target of [1, 2, 5, 9, 10, 11, 20, 50, 120]) {
    const chosen = greedyCoreset(v, count, dim, target, 3);
    const radius = coverRadius(v, count, dim, chosen);
    t.ok(radius <= previous + 1e-6, `target ${target}: radius ${radius.toFixed(4)} ≤ ${previous.toFixed(4)}`);
    previous = radius;
  }
  const greedy = coverRadius(v, count, dim, greedyCoreset(v, count, dim, clusters, 3));
  // One centre per cluster: radius ~ cluster size (0.02·√16·a few), vs. a missed cluster ~ 1.
  t.ok(greedy < 0.3, `greedy with one centre per cluster covers everything (radius ${greedy.toFixed(3)})`);
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = coverRadius(v, count, dim, randomSubset(count, clusters, seed));
    t.ok(greedy < random / 4, `random subset ${seed}: radius ${random.toFixed(3)} ≫ greedy ${greedy.toFixed(3)}`);
  }
  // Projected (dim > 32): the greedy still finds every cluster.
  const wide = clustered(clusters, 40, 64, 0.01, 4);
  const projected = coverRadius(wide, count, 64, greedyCoreset(wide, count, 64, clusters, 9));
  t.ok(projected < 0.3, `dim 64 through the projection: radius ${projected.toFixed(3)}`);
});

t.test('greedyCoreset: duplicate vectors never yield a repeated index', async (t) => {
  const dim = 4;
  // 3 distinct points, each repeated 5 times (flat image areas give identical patch vectors).
  const distinct = [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]];
  const v = Float32Array.from(Array.from({ length: 15 }, (_, i) => distinct[i % 3]).flat());
  const chosen = greedyCoreset(v, 15, dim, 6, 1);
  t.equal(chosen.length, 6);
  t.equal(new Set(chosen).size, 6, `distinct indices: ${[...chosen].join(',')}`);
  t.same(new Set([...chosen].slice(0, 3).map((i) => i % 3)), new Set([0, 1, 2]), 'the first three cover the three distinct points');
});

t.test('buildBankTap: all rows under the cap, a coreset of exactly maxCount rows over it', async (t) => {
  const meta = { name: 'b', output: 'tap_b', channels: 8, height: 4, width: 5 };
  const r = rng(7);
  const rows = [0, 1, 2].map(() => Float32Array.from({ length: 20 * 8 }, () => r() - 0.5));
  const all = concatRows(rows);
  t.equal(all.length, 3 * 20 * 8, 'concatRows keeps every value');
  t.same([...all.subarray(160, 320)], [...rows[1]], 'in order');

  const small = buildBankTap(meta, rows, 60, 1);
  t.equal(small.count, 60);
  t.same([...small.vectors], [...all], 'under the cap: unchanged');
  t.match(small, meta, 'keeps the tap geometry');

  const capped = buildBankTap(meta, rows, 25, 1);
  t.equal(capped.count, 25, 'bounded by maxCount');
  t.equal(capped.vectors.length, 25 * 8);
  const asKeys = new Set(Array.from({ length: 60 }, (_, i) => all.subarray(i * 8, (i + 1) * 8).join(',')));
  const keptKeys = Array.from({ length: 25 }, (_, i) => capped.vectors.subarray(i * 8, (i + 1) * 8).join(','));
  t.ok(keptKeys.every((k) => asKeys.has(k)), 'every kept vector is one of the input rows');
  t.equal(new Set(keptKeys).size, 25, 'no row kept twice');
  t.equal(keptKeys[0], all.subarray(0, 8).join(','), 'row 0 first');
  t.same([...buildBankTap(meta, rows, 25, 1).vectors], [...capped.vectors], 'reproducible');
});
