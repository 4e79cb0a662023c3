import t from 'tap';
import { loadOpenCv, type Mat } from '../../../src/capture/opencv.js';
import { createRng } from '../../../src/util/prng.js';
import { DEFAULT_PERTURBATION, bankVariants, perturb } from '../../../src/fewshot/recipe/augment.js';
import '../fixtures.js';

const cv = loadOpenCv();

/** A 3-channel image whose every pixel is distinct enough to check geometry: B = x, G = y, R = 7. */
function coords(w: number, h: number): Mat {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    data[(y * w + x) * 3] = x;
    data[(y * w + x) * 3 + 1] = y;
    data[(y * w + x) * 3 + 2] = 7;
  }
  return new cv.Mat(data, h, w, cv.CV_8UC3);
}

const px = (m: Mat, x: number, y: number) => [...m.getData().subarray((y * m.cols + x) * 3, (y * m.cols + x) * 3 + 3)];

t.test('bankVariants: identity first, then each augment with the right geometry', async (t) => {
  const img = coords(8, 8);
  const v = bankVariants(cv, img, ['hflip', 'vflip', 'rot90', 'rot180', 'rot270']);
  t.equal(v.length, 6);
  t.equal(v[0], img, 'the identity is the input itself (no copy)');
  t.same(px(v[1], 0, 0), [7, 0, 7], 'hflip: (0,0) ← (7,0)');
  t.same(px(v[2], 0, 0), [0, 7, 7], 'vflip: (0,0) ← (0,7)');
  t.same(px(v[3], 0, 0), [0, 7, 7], 'rot90 clockwise: top-left ← bottom-left');
  t.same(px(v[4], 0, 0), [7, 7, 7], 'rot180: top-left ← bottom-right');
  t.same(px(v[5], 0, 0), [7, 0, 7], 'rot270: top-left ← top-right');
  t.same(px(v[3], 7, 0), [0, 0, 7], 'rot90: top-right ← top-left');
});

t.test('bankVariants: 90° turns are skipped for non-square inputs', async (t) => {
  const v = bankVariants(cv, coords(12, 8), ['rot90', 'hflip', 'rot270', 'rot180']);
  t.equal(v.length, 3, 'identity, hflip, rot180');
  for (const m of v) t.same([m.cols, m.rows], [12, 8], 'same size as the input');
  t.same(bankVariants(cv, coords(12, 8), []).length, 1, 'no augments: the identity only');
});

t.test('perturb: small, seeded, same size and type, reflected borders', async (t) => {
  const w = 64;
  const h = 48;
  // A smooth image: a small warp changes it a little, not completely.
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = 60 + 2 * x + y + 10 * c;
  const img = new cv.Mat(data, h, w, cv.CV_8UC3);
  const a = perturb(cv, img, createRng(1));
  const b = perturb(cv, img, createRng(1));
  const c = perturb(cv, img, createRng(2));
  t.same([a.cols, a.rows, a.type], [w, h, img.type]);
  t.ok(a.getData().equals(b.getData()), 'same seed, same result');
  t.notOk(a.getData().equals(c.getData()), 'another seed, another result');
  const mad = (m: Mat) => { const x = m.getData(); let s = 0; for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - data[i]); return s / x.length; };
  const d = mad(a);
  t.ok(d > 0.5 && d < 30, `changed, but only a little (mean |Δ| = ${d.toFixed(2)})`);
  let zeros = 0;
  for (const v of a.getData()) if (v === 0) zeros++;
  t.equal(zeros, 0, 'no black border from the warp (reflected)');
  const none = perturb(cv, img, createRng(3), { shift: 0, rotateDeg: 0, scale: 0, gain: 0 });
  t.ok(none.getData().equals(img.getData()), 'a zero range is the identity');
  t.ok(DEFAULT_PERTURBATION.shift > 0 && DEFAULT_PERTURBATION.shift < 0.1, 'default shifts are small');
});
