import t from 'tap';
import {
  PixelAurocAccumulator, auroc, balancedAccuracy, confusion, meanStd, pixelAuroc, rocCurve,
} from '../../src/eval/metrics.js';

/** Reference by definition: P(score_pos > score_neg) + ½ P(equal), over all pairs. */
function pairwiseAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) sum += 1; else if (scores[i] === scores[j]) sum += 0.5;
    }
  }
  return sum / pairs;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('auroc on hand-computed cases', async (t) => {
  t.equal(auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1, 'perfect separation');
  t.equal(auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0, 'inverted');
  // sklearn docs example: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75
  t.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  t.equal(auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5, 'all tied');
  // Ties across classes: pos {0.5, 0.7}, neg {0.5, 0.2}: pairs 0.5v0.5=½, 0.5v0.2=1, 0.7v0.5=1, 0.7v0.2=1 → 3.5/4
  t.equal(auroc([0.5, 0.7, 0.5, 0.2], [1, 1, 0, 0]), 0.875);
  t.equal(auroc(new Float32Array([3, 1, 2]), new Uint8Array([1, 0, 0]) as ArrayLike<0 | 1>), 1, 'typed arrays');
  t.ok(Number.isNaN(auroc([1, 2], [1, 1])), 'one class → NaN');
  t.throws(() => auroc([1, Number.NaN], [0, 1]), RangeError);
  t.throws(() => auroc([1], [0, 1]), RangeError);
});

t.test('auroc equals the pairwise definition on random data with many ties', async (t) => {
  const r = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 50 + trial * 10;
    const labels = Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0) as 0 | 1);
    // Rounded scores create many ties; positives shifted up a little.
    const scores = labels.map((l) => Math.round((r() + 0.3 * l) * 20) / 20);
    t.ok(Math.abs(auroc(scores, labels) - pairwiseAuroc(scores, labels)) < 1e-12, `trial ${trial}`);
  }
});

t.test('rocCurve points, thresholds and dropIntermediate', async (t) => {
  const c = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  t.same(c.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
  t.same(c.tpr, [0, 0.5, 0.5, 1, 1]);
  t.same(c.fpr, [0, 0, 0.5, 0.5, 1]);
  // sklearn's roc_curve (drop_intermediate=True) gives the same 5 points here; add a collinear one.
  const d = rocCurve([0.9, 0.8, 0.7, 0.1], [1, 1, 1, 0], { dropIntermediate: true });
  t.same(d.tpr, [0, 1, 1]);
  t.same(d.fpr, [0, 0, 1]);
  t.same(d.thresholds, [Infinity, 0.7, 0.1]);
  // Trapezoid area under the curve equals auroc.
  const r = rng(3);
  const labels = Array.from({ length: 300 }, () => (r() < 0.5 ? 1 : 0) as 0 | 1);
  const scores = labels.map((l) => Math.round((r() + 0.4 * l) * 30) / 30);
  const roc = rocCurve(scores, labels, { dropIntermediate: true });
  let area = 0;
  for (let i = 1; i < roc.fpr.length; i++) area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
  t.ok(Math.abs(area - auroc(scores, labels)) < 1e-12);
});

t.test('histogram pixel AUROC matches exact AUROC within 1e-3 and within its own bound', async (t) => {
  const r = rng(11);
  const images = [];
  const allScores: number[] = [];
  const allLabels: Array<0 | 1> = [];
  for (let k = 0; k < 8; k++) {
    const scores = new Float32Array(64 * 64);
    const truth = new Uint8Array(64 * 64);
    for (let i = 0; i < scores.length; i++) {
      const defect = r() < 0.08;
      truth[i] = defect ? 255 : 0;
      scores[i] = r() * 0.6 + (defect ? 0.25 : 0);
      allScores.push(scores[i]);
      allLabels.push(defect ? 1 : 0);
    }
    images.push({ scores, truth });
  }
  const exact = auroc(allScores, allLabels);
  const res = pixelAuroc(images, { min: 0, max: 1 });
  t.ok(Math.abs(res.auroc - exact) < 1e-3, `hist ${res.auroc} vs exact ${exact}`);
  t.ok(Math.abs(res.auroc - exact) <= res.maxError + 1e-12, `error ${Math.abs(res.auroc - exact)} ≤ bound ${res.maxError}`);
  t.ok(res.maxError < 1e-4, `bound ${res.maxError}`);
  // Coarse bins: the error grows, but the bound still holds.
  const coarse = pixelAuroc(images, { min: 0, max: 1 }, { bins: 16 });
  t.ok(Math.abs(coarse.auroc - exact) <= coarse.maxError + 1e-12);
  t.ok(coarse.maxError > res.maxError);

  // Values outside the range clamp into the end bins instead of vanishing.
  const acc = new PixelAurocAccumulator({ min: 0, max: 1 }, { bins: 1024 });
  acc.add([-5, 0.5, 7], [0, 0, 255]);
  t.same(acc.counts, { positive: 1, negative: 2 });
  t.equal(acc.auroc(), 1);
  const curve = acc.curve();
  t.equal(curve.tpr[curve.tpr.length - 1], 1);
  t.equal(curve.fpr[curve.fpr.length - 1], 1);
  t.throws(() => new PixelAurocAccumulator({ min: 1, max: 1 }), RangeError);
});

t.test('pixel AUROC truthAbove follows the MVTec > 0.1 rule', async (t) => {
  const acc = new PixelAurocAccumulator({ min: 0, max: 1 }, { truthAbove: 25.5 });
  acc.add([0.9, 0.2, 0.3], [200, 25, 26]);
  t.same(acc.counts, { positive: 2, negative: 1 });
});

t.test('balanced accuracy and confusion', async (t) => {
  // 3 defective (2 caught), 5 good (4 passed): (2/3 + 4/5) / 2
  const labels = [1, 1, 1, 0, 0, 0, 0, 0] as Array<0 | 1>;
  const pred = [true, true, false, false, false, false, false, true];
  t.same(confusion(pred, labels), { tp: 2, fp: 1, tn: 4, fn: 1, tpr: 2 / 3, tnr: 4 / 5 });
  t.equal(balancedAccuracy(pred, labels), (2 / 3 + 4 / 5) / 2);
  t.equal(balancedAccuracy(labels.map(() => true), labels), 0.5, 'always-fail scores 0.5 however imbalanced');
  t.ok(Number.isNaN(balancedAccuracy([true], [1])), 'one class → NaN');
});

t.test('meanStd', async (t) => {
  const m = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  t.equal(m.mean, 5);
  t.equal(m.std, 2, 'population std (numpy default)');
  t.ok(Math.abs(meanStd([1, 2, 3, 4], { ddof: 1 }).std - Math.sqrt(5 / 3)) < 1e-12);
  t.ok(Number.isNaN(meanStd([]).mean));
  t.ok(Number.isNaN(meanStd([3], { ddof: 1 }).std));
});
