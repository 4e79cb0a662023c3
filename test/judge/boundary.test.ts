import t from 'tap';
import { DEFAULT_FALSE_REJECT, decide, deriveBoundary, tailScale, type Boundary } from '../../src/judge/boundary.js';
import { mulberry32 } from '../../src/util/prng.js';

/** One simulated normal map: M patch scores, level + Exp(σ) each; its max and upper 10 %. */
function simMap(r: () => number, M: number, level: number, sigma: number): { max: number; tail: number[] } {
  const v = Array.from({ length: M }, () => level - sigma * Math.log(1 - r()));
  v.sort((a, b) => b - a);
  return { max: v[0], tail: v.slice(0, Math.round(M * 0.1)) };
}

t.test('tailScale: median over maps of the mean excess over each tail\'s own start', async (t) => {
  t.ok(Math.abs(tailScale([[0.5, 0.3, 0.1]]) - (0.4 + 0.2 + 0) / 3) < 1e-12);
  t.equal(tailScale([[1, 0], [3, 2, 2, 1]]), (0.5 + 1) / 2);
  t.equal(tailScale([[1, 0], [3, 2, 2, 1], [9, 0]]), 1, 'one odd map does not set it');
  t.equal(tailScale([[0.7]]), 0, 'a single value has no spread');
  t.equal(tailScale([]), 0);
});

t.test('Gumbel rule: the stated formula', async (t) => {
  const tails = [[0.5, 0.4, 0.3], [0.6, 0.5, 0.45]];
  const beta = tailScale(tails);
  const b = deriveBoundary({ heldOut: [0.5, 0.6], heldOutTails: tails, perturbed: [9], synthetic: [0.9, 0.8, 1.0] });
  // μ = median + β·ln(ln 2); threshold = μ − β·ln(−ln(1 − α))
  const expected = 0.55 + beta * Math.log(Math.LN2) - beta * Math.log(-Math.log(1 - DEFAULT_FALSE_REJECT));
  t.ok(Math.abs(b.threshold - expected) < 1e-12, `threshold ${b.threshold} = ${expected}`);
  t.equal(b.scale, beta);
  t.equal(b.normalLevel, 0.55);
  t.equal(b.defectLevel, 0.9, 'median of the synthetic scores, for the record');
  t.match(b.rule, /^gumbel\(held-out, n=2/);
  t.ok(b.threshold > 0.6, 'above every held-out maximum');
  const odd = deriveBoundary({ heldOut: [0.5, 0.55, 0.6, 5], heldOutTails: tails, perturbed: [], synthetic: [] });
  t.equal(odd.normalLevel, 0.575, 'the median: one odd reference does not set the boundary');
  const strict = deriveBoundary({ heldOut: [0.5, 0.6], heldOutTails: tails, perturbed: [], synthetic: [] }, 0.001);
  t.ok(strict.threshold > b.threshold, 'a lower false-reject target gives a higher boundary');
  t.throws(() => deriveBoundary({ heldOut: [0.5], perturbed: [], synthetic: [] }, 0), RangeError);
});

t.test('k = 1: perturbed evidence; no tails: the spread of the maxima', async (t) => {
  const b = deriveBoundary({ heldOut: [], perturbed: [0.2, 0.3, 0.25], perturbedTails: [[0.2, 0.1], [0.3, 0.1], [0.25, 0.15]], synthetic: [0.1] });
  t.match(b.rule, /^gumbel\(perturbed, n=3/);
  t.ok(Math.abs(b.scale - tailScale([[0.2, 0.1], [0.3, 0.1], [0.25, 0.15]])) < 1e-12);
  const legacy = deriveBoundary({ heldOut: [0.2, 0.4, 0.3], perturbed: [], synthetic: [0.9] });
  t.ok(Math.abs(legacy.scale - (0.1 * Math.sqrt(6)) / Math.PI) < 1e-12, 'recipes without tails: β from the maxima (method of moments)');
  t.throws(() => deriveBoundary({ heldOut: [], perturbed: [], synthetic: [1] }), RangeError);
});

t.test('on data that follow the model, the false-reject rate is the target', async (t) => {
  const r = mulberry32(11);
  // Averaged over several calibrations: one calibration's median of n maxima is itself noisy
  // (sd ≈ 1.44·β/√n), so a single draw can sit well away from the target.
  for (const [n, M, sigma] of [[4, 784, 0.02], [16, 1344, 0.05], [64, 196, 0.01]] as const) {
    for (const alpha of [DEFAULT_FALSE_REJECT, 0.01]) {
      let rejects = 0;
      const calibrations = 8;
      const trials = 600;
      for (let c = 0; c < calibrations; c++) {
        const evidence = Array.from({ length: n }, () => simMap(r, M, 0.1, sigma));
        const b = deriveBoundary({ heldOut: evidence.map((e) => e.max), heldOutTails: evidence.map((e) => e.tail), perturbed: [], synthetic: [] }, alpha);
        for (let i = 0; i < trials; i++) if (decide(simMap(r, M, 0.1, sigma).max, b).fail) rejects++;
      }
      const frr = rejects / (calibrations * trials);
      t.ok(frr > alpha / 2.5 && frr < alpha * 2.5, `n=${n}, M=${M}: false rejects ${(100 * frr).toFixed(2)} % (target ${alpha * 100} %)`);
    }
  }
});

t.test('decide: fail iff score > threshold, confidence 0.5 at the threshold, monotone', async (t) => {
  const b: Boundary = { threshold: 0.4, scale: 0.1, rule: 'test', normalLevel: 0.3, defectLevel: 0.8 };
  t.same(decide(0.4, b), { fail: false, confidence: 0.5 }, 'at the threshold: pass, 0.5');
  t.equal(decide(0.4 + 1e-9, b).fail, true, 'just above: fail');
  t.equal(decide(0.4 - 1e-9, b).fail, false, 'just below: pass');
  t.ok(Math.abs(decide(0.5, b).confidence - 1 / (1 + Math.exp(-2))) < 1e-12, 'one scale above: ≈ 0.88');
  t.ok(Math.abs(decide(0.3, b).confidence - 1 / (1 + Math.exp(-2))) < 1e-12, 'one scale below: ≈ 0.88');
  const sweep = (from: number, to: number, step: number, fail: boolean) => {
    const bad: string[] = [];
    let prev = 0.5;
    for (let s = from; step > 0 ? s <= to : s >= to; s += step) {
      const d = decide(s, b);
      if (d.fail !== fail || d.confidence < prev || d.confidence > 1) bad.push(`${s.toFixed(2)}: ${JSON.stringify(d)}`);
      prev = d.confidence;
    }
    return bad;
  };
  t.same(sweep(0.41, 1.5, 0.01, true), [], 'above: fail, confidence non-decreasing away from the threshold, ≤ 1');
  t.same(sweep(0.39, -0.5, -0.01, false), [], 'below: pass, confidence non-decreasing away from the threshold, ≤ 1');
  t.ok(decide(10, b).confidence > 0.999 && decide(-10, b).confidence > 0.999, '→ 1 far away');
});

t.test('k = 1: midpoint between the perturbed and synthetic medians; Gumbel when they do not separate', async (t) => {
  const b = deriveBoundary({ heldOut: [], perturbed: [0.1, 0.3, 0.2], perturbedTails: [[0.1, 0.05], [0.3, 0.2], [0.2, 0.1]], synthetic: [0.6, 0.4, 0.9] });
  t.ok(Math.abs(b.threshold - (0.2 + 0.6) / 2) < 1e-12, `threshold ${b.threshold}`);
  t.equal(b.normalLevel, 0.2);
  t.equal(b.defectLevel, 0.6);
  t.match(b.rule, /^midpoint/);
  const flat = deriveBoundary({ heldOut: [], perturbed: [0.1, 0.3, 0.2], perturbedTails: [[0.1, 0.05], [0.3, 0.2], [0.2, 0.1]], synthetic: [0.15, 0.2] });
  t.match(flat.rule, /^gumbel\(perturbed/, 'synthetic defects not above the perturbations');
  const none = deriveBoundary({ heldOut: [], perturbed: [0.1, 0.3, 0.2], synthetic: [] });
  t.match(none.rule, /^gumbel\(perturbed/, 'no synthetic defects');
});
