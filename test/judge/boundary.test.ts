import t from 'tap';
import { LAMBDA_HELD_OUT, LAMBDA_PERTURBED, decide, deriveBoundary, type Boundary } from '../../src/judge/boundary.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

t.test('k = 1 (perturbed evidence only): n = max(P), s = median(S), λ = 1/2', async (t) => {
  const b = deriveBoundary({ heldOutScores: [], perturbedScores: [0.2, 0.35, 0.1], syntheticScores: [0.9, 0.5, 0.7] });
  t.equal(LAMBDA_PERTURBED, 0.5);
  t.equal(b.normalLevel, 0.35);
  t.equal(b.defectLevel, 0.7);
  t.ok(close(b.threshold, 0.35 + 0.5 * (0.7 - 0.35)), `threshold ${b.threshold}`);
  t.ok(close(b.scale, (0.7 - 0.35) / 4), 'scale = (s − n)/4');
  t.match(b.rule, /^perturbed \+ 0\.5/);
});

t.test('k = 2: both held-out scores count (nothing dropped), λ = 1/4, perturbations ignored', async (t) => {
  const b = deriveBoundary({ heldOutScores: [0.3, 0.2], perturbedScores: [5], syntheticScores: [0.4, 0.6, 1.0, 0.8] });
  t.equal(LAMBDA_HELD_OUT, 0.25);
  t.equal(b.normalLevel, 0.3, 'n = max(H)');
  t.ok(close(b.defectLevel, 0.7), 'even count: median = mean of the middle two');
  t.ok(close(b.threshold, 0.3 + 0.25 * 0.4));
  t.match(b.rule, /^held-out \+ 0\.25/);
});

t.test('k ≥ 3: the single largest held-out score is dropped', async (t) => {
  const e = { heldOutScores: [0.1, 0.9, 0.3, 0.2], perturbedScores: [0.05], syntheticScores: [0.7, 0.5, 0.6] };
  const b = deriveBoundary(e);
  t.equal(b.normalLevel, 0.3, 'n = second largest of H');
  t.equal(b.defectLevel, 0.6);
  t.ok(close(b.threshold, 0.3 + 0.25 * 0.3));
  t.ok(close(b.scale, 0.3 / 4));
  t.same(e.heldOutScores, [0.1, 0.9, 0.3, 0.2], 'the evidence arrays are not reordered');
  const three = deriveBoundary({ heldOutScores: [0.4, 0.1, 0.2], perturbedScores: [], syntheticScores: [1] });
  t.equal(three.normalLevel, 0.2, 'k = 3');
});

t.test('one held-out score (not k ≥ 2 evidence) falls back to the perturbations', async (t) => {
  const b = deriveBoundary({ heldOutScores: [0.9], perturbedScores: [0.1, 0.2], syntheticScores: [0.6] });
  t.equal(b.normalLevel, 0.2);
  t.ok(close(b.threshold, 0.2 + 0.5 * 0.4));
});

t.test('no synthetic evidence: the boundary sits at the normal level', async (t) => {
  const b = deriveBoundary({ heldOutScores: [], perturbedScores: [0.1, 0.4], syntheticScores: [] });
  t.equal(b.threshold, 0.4);
  t.equal(b.normalLevel, 0.4);
  t.equal(b.defectLevel, 0.4);
  t.ok(close(b.scale, 0.02), 'scale 5 % of n');
  t.match(b.rule, /no synthetic/);
});

t.test('synthetic defects not above the normals: boundary at the normal level, said so', async (t) => {
  for (const s of [[0.1, 0.2, 0.3], [0.3]]) {
    const b = deriveBoundary({ heldOutScores: [0.25, 0.3], perturbedScores: [], syntheticScores: s });
    t.equal(b.threshold, 0.3, `median ${s} ≤ n`);
    t.equal(b.normalLevel, 0.3);
    t.match(b.rule, /not separable/);
    t.ok(b.scale > 0);
  }
  const zero = deriveBoundary({ heldOutScores: [], perturbedScores: [0], syntheticScores: [] });
  t.ok(zero.scale > 0, 'scale stays positive at n = 0');
});

t.test('no normal evidence → RangeError', async (t) => {
  t.throws(() => deriveBoundary({ heldOutScores: [], perturbedScores: [], syntheticScores: [1] }), RangeError);
  t.throws(() => deriveBoundary({ heldOutScores: [0.2], perturbedScores: [], syntheticScores: [1] }), RangeError);
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

t.test('derived boundary in use: normals pass, the synthetic median fails', async (t) => {
  const e = { heldOutScores: [0.11, 0.14, 0.12, 0.3], perturbedScores: [0.15, 0.16], syntheticScores: [0.5, 0.45, 0.6] };
  const b = deriveBoundary(e);
  for (const s of [0.11, 0.14, 0.12]) t.notOk(decide(s, b).fail, `held-out ${s} passes`);
  t.ok(decide(0.5, b).fail, 'the synthetic median fails');
  t.ok(decide(0.5, b).confidence > 0.9, 'with high confidence');
});
