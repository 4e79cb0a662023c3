/**
 * The few-shot scorer and features graphs (SPEC §4) checked numerically against a plain
 * JavaScript reference written here from the SPEC text, not from the graph code.
 */
import t, { type Test } from 'tap';
import * as ort from 'onnxruntime-node';
import type { TapSpec } from '../../src/fewshot/bundle-manifest.js';
import type { TapFeatures } from '../../src/fewshot/encoder.js';
import type { BankTap } from '../../src/fewshot/memory-bank.js';
import { openSession } from '../../src/inference/ort-session.js';
import { SCORER_OUTPUT, buildFeaturesGraph, buildScorerGraph, gaussianKernel, rowsOutput } from '../../src/fewshot/scorer-graph.js';
import { PatchFeatures, Scorer, scorerGraphFor } from '../../src/fewshot/scorer.js';
import { rng, silentLogger } from './fixtures.js';
import { imageScore, type AnomalyMap } from '../../src/judge/anomaly-map.js';

const TOL = 1e-5;

interface RefTap {
  readonly input: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** NCHW, N = 1. */
  readonly x: Float32Array;
  /** Unit-norm rows, count×channels. */
  readonly bank: Float32Array;
  readonly count: number;
}

function gaussianArray(n: number, r: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r()));
  return a;
}

function unitRows(a: Float32Array, rows: number, cols: number): Float32Array {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[i * cols + c] ** 2;
    const n = Math.sqrt(s);
    for (let c = 0; c < cols; c++) a[i * cols + c] /= n;
  }
  return a;
}

function randomTap(input: string, channels: number, height: number, width: number, count: number, seed: number): RefTap {
  const r = rng(seed);
  // Positive offset: features of one part are correlated, so cosines are not all near 0.
  const x = gaussianArray(channels * height * width, r);
  for (let i = 0; i < x.length; i++) x[i] += 0.7;
  const bank = gaussianArray(count * channels, r);
  for (let i = 0; i < bank.length; i++) bank[i] += 0.7;
  return { input, channels, height, width, x, bank: unitRows(bank, count, channels), count };
}

/** Mean over the pool×pool window that lies inside the map (AveragePool, count_include_pad = 0). */
function avgPool(x: Float32Array, c: number, h: number, w: number, pool: number): Float64Array {
  const out = new Float64Array(x.length);
  const r = pool >> 1;
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        let n = 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = y + dy;
            const xq = xx + dx;
            if (yy < 0 || yy >= h || xq < 0 || xq >= w) continue;
            s += x[k * h * w + yy * w + xq];
            n++;
          }
        }
        out[k * h * w + y * w + xx] = s / n;
      }
    }
  }
  return out;
}

/** Patch p (row-major, p = row·w + col) as a C-vector of the (possibly pooled) NCHW map. */
function patch(x: ArrayLike<number>, c: number, plane: number, p: number): number[] {
  return Array.from({ length: c }, (_, k) => x[k * plane + p]);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

/** s[p] = max_j cos(Q[p], N[j]) with F.cosine_similarity's eps = 1e-8 (SPEC §4). */
function similarity(tap: RefTap, pool: number): Float64Array {
  const plane = tap.height * tap.width;
  const x = pool > 1 ? avgPool(tap.x, tap.channels, tap.height, tap.width, pool) : tap.x;
  const s = new Float64Array(plane);
  for (let p = 0; p < plane; p++) {
    const q = patch(x, tap.channels, plane, p);
    let best = -Infinity;
    for (let j = 0; j < tap.count; j++) {
      const n = tap.bank.subarray(j * tap.channels, (j + 1) * tap.channels);
      best = Math.max(best, dot(q, n) / Math.max(norm(q) * norm(n), 1e-8));
    }
    s[p] = best;
  }
  return s;
}

/** Bilinear, align_corners = True: x_src = x_out·(in − 1)/(out − 1) (SPEC §3 step 4). */
function upsample(src: ArrayLike<number>, h: number, w: number, outH: number, outW: number): Float64Array {
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const sy = outH > 1 ? (y * (h - 1)) / (outH - 1) : 0;
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const sx = outW > 1 ? (x * (w - 1)) / (outW - 1) : 0;
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Separable Gaussian, radius ⌈2σ⌉ (at least 1), normalised, border pixels repeated. */
function smooth(map: Float64Array, h: number, w: number, sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(2 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = k.reduce((a, b) => a + b, 0);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const rows = new Float64Array(map.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += map[clamp(y + i, h) * w + x] * k[i + r];
    rows[y * w + x] = s / total;
  }
  const out = new Float64Array(map.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += rows[y * w + clamp(x + i, w)] * k[i + r];
    out[y * w + x] = s / total;
  }
  return out;
}

function referenceMap(taps: readonly RefTap[], pool: number, mapW: number, mapH: number, sigma: number): Float64Array {
  const mean = new Float64Array(mapW * mapH);
  for (const tap of taps) {
    const up = upsample(similarity(tap, pool), tap.height, tap.width, mapH, mapW);
    for (let i = 0; i < mean.length; i++) mean[i] += up[i] / taps.length;
  }
  const map = mean.map((v) => 1 - v);
  return sigma > 0 ? smooth(map, mapH, mapW, sigma) : map;
}

const open = async (model: Uint8Array) => (await openSession(model, { executionProviders: ['cpu'], intraOpThreads: 1 }, silentLogger())).session;

async function runScorer(t: Test, taps: readonly RefTap[], pool: number, mapW: number, mapH: number, sigma: number): Promise<Float32Array> {
  const session = await open(buildScorerGraph({ taps, pool, mapWidth: mapW, mapHeight: mapH, smoothSigma: sigma }));
  const feeds: Record<string, ort.Tensor> = {};
  for (const tap of taps) feeds[tap.input] = new ort.Tensor('float32', tap.x, [1, tap.channels, tap.height, tap.width]);
  const out = await session.run(feeds);
  await session.release();
  t.same(out[SCORER_OUTPUT].dims, [1, 1, mapH, mapW], 'map dims');
  return out[SCORER_OUTPUT].data as Float32Array;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Three taps of different sizes and widths, like strides 4/8/16 on a 32×40 input (w ≠ h
// catches transposed layouts).
const TAPS: readonly RefTap[] = [
  randomTap('tap_fine', 6, 8, 10, 17, 11),
  randomTap('tap_mid', 9, 4, 5, 23, 12),
  randomTap('tap_coarse', 12, 2, 3, 9, 13),
];

t.test('scorer graph = reference (SPEC §4), several pool/size/smoothing settings', async (t) => {
  const cases = [
    { pool: 1, mapW: 10, mapH: 8, sigma: 0 },
    { pool: 1, mapW: 20, mapH: 16, sigma: 0 },
    { pool: 3, mapW: 10, mapH: 8, sigma: 0 },
    { pool: 1, mapW: 10, mapH: 8, sigma: 1 },
    { pool: 3, mapW: 13, mapH: 7, sigma: 0.7 },
  ];
  for (const c of cases) {
    const got = await runScorer(t, TAPS, c.pool, c.mapW, c.mapH, c.sigma);
    const want = referenceMap(TAPS, c.pool, c.mapW, c.mapH, c.sigma);
    const d = maxAbsDiff(got, want);
    t.ok(d < TOL, `pool ${c.pool}, map ${c.mapW}×${c.mapH}, σ ${c.sigma}: max |graph − reference| = ${d.toExponential(2)}`);
    let spread = 0;
    for (const v of want) spread = Math.max(spread, Math.abs(v - want[0]));
    t.ok(spread > 0.05, 'the reference map is not flat (the comparison means something)');
  }
});

t.test('align-corners: map corners equal 1 − mean of the taps’ corner similarities', async (t) => {
  const mapW = 23;
  const mapH = 17;
  const got = await runScorer(t, TAPS, 1, mapW, mapH, 0);
  const sims = TAPS.map((tap) => similarity(tap, 1));
  const corner = (row: 0 | 1, col: 0 | 1) =>
    1 - sims.reduce((a, s, i) => a + s[(row ? TAPS[i].height - 1 : 0) * TAPS[i].width + (col ? TAPS[i].width - 1 : 0)], 0) / TAPS.length;
  t.ok(Math.abs(got[0] - corner(0, 0)) < TOL, 'top left');
  t.ok(Math.abs(got[mapW - 1] - corner(0, 1)) < TOL, 'top right');
  t.ok(Math.abs(got[(mapH - 1) * mapW] - corner(1, 0)) < TOL, 'bottom left');
  t.ok(Math.abs(got[mapH * mapW - 1] - corner(1, 1)) < TOL, 'bottom right');
  // One tap alone, map at its own size: the map is exactly 1 − s, patch by patch.
  const one = await runScorer(t, [TAPS[1]], 1, TAPS[1].width, TAPS[1].height, 0);
  t.ok(maxAbsDiff(one, sims[1].map((s) => 1 - s)) < TOL, 'same size: no interpolation, map = 1 − s');
});

t.test('features graph: unit-norm P×C rows in row-major patch order', async (t) => {
  for (const pool of [1, 3]) {
    const session = await open(buildFeaturesGraph(TAPS, pool));
    const feeds: Record<string, ort.Tensor> = {};
    for (const tap of TAPS) feeds[tap.input] = new ort.Tensor('float32', tap.x, [1, tap.channels, tap.height, tap.width]);
    const out = await session.run(feeds);
    await session.release();
    for (const tap of TAPS) {
      const plane = tap.height * tap.width;
      const rows = out[rowsOutput(tap.input)];
      t.same(rows.dims, [plane, tap.channels], `${tap.input} pool ${pool}: P×C`);
      const data = rows.data as Float32Array;
      const x = pool > 1 ? avgPool(tap.x, tap.channels, tap.height, tap.width, pool) : tap.x;
      let worst = 0;
      let worstNorm = 0;
      for (let p = 0; p < plane; p++) {
        const q = patch(x, tap.channels, plane, p);
        const n = norm(q);
        const row = data.subarray(p * tap.channels, (p + 1) * tap.channels);
        worstNorm = Math.max(worstNorm, Math.abs(norm(row) - 1));
        for (let k = 0; k < tap.channels; k++) worst = Math.max(worst, Math.abs(row[k] - q[k] / n));
      }
      t.ok(worstNorm < TOL, `${tap.input} pool ${pool}: rows have unit norm`);
      t.ok(worst < TOL, `${tap.input} pool ${pool}: row p = patch (p / w, p % w), normalised (max err ${worst.toExponential(2)})`);
    }
  }
});

function tapSpec(tap: RefTap): TapSpec {
  return { output: tap.input, name: tap.input.replace('tap_', ''), channels: tap.channels, stride: 1 };
}

function features(tap: RefTap): TapFeatures {
  const tensor = new ort.Tensor('float32', tap.x, [1, tap.channels, tap.height, tap.width]);
  return { tap: tapSpec(tap), data: tap.x, channels: tap.channels, height: tap.height, width: tap.width, tensor };
}

t.test('PatchFeatures → bank → Scorer: a query equal to the reference scores 0 everywhere', async (t) => {
  for (const pool of [1, 3]) {
    const feats = TAPS.map(features);
    const pf = await PatchFeatures.open(feats, pool, open);
    const rows = await pf.run(feats);
    await pf.release();
    const bank: BankTap[] = TAPS.map((tap, i) => ({
      name: tap.input, output: tap.input, channels: tap.channels, height: tap.height, width: tap.width,
      count: tap.height * tap.width, vectors: rows[i],
    }));
    const spec = { width: 10, height: 8, smoothSigma: 0, pool };
    const scorer = new Scorer(await open(scorerGraphFor(bank, spec)), spec, bank);
    const map = await scorer.run(feats);
    t.equal(map.width, 10);
    t.equal(map.height, 8);
    t.ok(maxAbsDiff(map.data, new Float32Array(80)) < TOL, `pool ${pool}: the reference itself is perfectly normal`);
    // A different query through the same Scorer equals the reference implementation.
    const other = TAPS.map((tap, i) => randomTap(tap.input, tap.channels, tap.height, tap.width, 1, 100 + i));
    const got = await scorer.run(other.map(features));
    const want = referenceMap(other.map((o, i) => ({ ...o, bank: rows[i], count: TAPS[i].height * TAPS[i].width })), pool, 10, 8, 0);
    t.ok(maxAbsDiff(got.data, want) < TOL, `pool ${pool}: another query matches the reference`);
    await t.rejects(scorer.run(feats.slice(1)), /no tap tap_fine/, 'a missing tap is an error');
    await scorer.release();
  }
});

t.test('gaussianKernel: normalised, symmetric, radius ⌈2σ⌉', async (t) => {
  const { kernel, radius } = gaussianKernel(1.2);
  t.equal(radius, 3);
  t.equal(kernel.length, 7);
  t.ok(Math.abs(kernel.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let i = 0; i < 3; i++) t.equal(kernel[i], kernel[6 - i]);
  t.ok(kernel[3] > kernel[2] && kernel[2] > kernel[1]);
  t.equal(gaussianKernel(0.2).radius, 1, 'at least 1');
});

t.test('imageScore rules', async (t) => {
  const map = (values: number[]): AnomalyMap => ({ data: Float32Array.from(values), width: values.length, height: 1 });
  const m = map([0.5, 0.1, 0.9, 0.3, 0.2, 0.7, 0.4, 0.6, 0.8, 0]);
  t.equal(imageScore(m, { kind: 'max' }), Math.fround(0.9), 'max');
  t.ok(Math.abs(imageScore(m, { kind: 'top-mean', fraction: 0.3 }) - (0.9 + 0.8 + 0.7) / 3) < 1e-6, 'top-mean of the top 30 %');
  t.equal(imageScore(m, { kind: 'top-mean', fraction: 0.001 }), Math.fround(0.9), 'top-mean takes at least one value');
  t.ok(Math.abs(imageScore(m, { kind: 'top-mean', fraction: 1 }) - 0.45) < 1e-6, 'fraction 1 is the mean');
  // Sorted: 0 .1 .2 .3 .4 .5 .6 .7 .8 .9 → element n>>1 = 0.5.
  t.ok(Math.abs(imageScore(m, { kind: 'peak-over-median' }) - 0.4) < 1e-6, 'peak over median');
  t.ok(Math.abs(imageScore(map([-2, -1, 10]), { kind: 'peak-over-median' }) - 11) < 1e-6, 'numeric sort (negative values)');
  t.equal(imageScore(map([-3, -2]), { kind: 'max' }), -2, 'max of negative values');
  t.same([...m.data], [0.5, 0.1, 0.9, 0.3, 0.2, 0.7, 0.4, 0.6, 0.8, 0].map(Math.fround), 'the map is not modified');
});
