import t from 'tap';
import { existsSync } from 'node:fs';
import { loadOpenCv, type Mat } from '../../src/capture/opencv.js';
import { readImageFile } from '../../src/capture/image-io.js';
import { ProceduralPart } from '../../src/capture/sim/procedural-part.js';
import { createRng, mixSeed, mulberry32 } from '../../src/util/prng.js';
import { DEFECT_GENERATORS, DEFECT_KINDS, injectDefect } from '../../src/capture/sim/defects.js';
import { maskedContrast } from '../../src/capture/sim/defect-helpers.js';

const cv = loadOpenCv();

function sameOutsideMask(a: Mat, b: Mat, mask: Mat): boolean {
  const da = a.getData();
  const db = b.getData();
  const dm = mask.getData();
  const ch = a.channels;
  for (let i = 0; i < dm.length; i++) {
    if (dm[i]) continue;
    for (let c = 0; c < ch; c++) if (da[i * ch + c] !== db[i * ch + c]) return false;
  }
  return true;
}

function insidePart(mask: Mat, part: Mat): boolean {
  const m = mask.getData();
  const p = part.getData();
  return m.every((v, i) => v === 0 || p[i] !== 0);
}

t.test('prng is deterministic and uniform enough', async (t) => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  t.same(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  t.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  t.not(mixSeed(1, 2), mixSeed(2, 1));
  const r = createRng(7);
  const ints = Array.from({ length: 200 }, () => r.int(1, 3));
  t.same([...new Set(ints)].sort(), [1, 2, 3]);
});

t.test('every generator makes a visible, realistically sized defect with exact truth', async (t) => {
  const part = new ProceduralPart(3);
  for (const kind of DEFECT_KINDS) {
    for (let i = 0; i < 8; i++) {
      const scene = part.render(createRng(1000 + i));
      const before = scene.image.getData();
      const r = DEFECT_GENERATORS[kind](scene.image, createRng(i), scene.partMask, { background: scene.background });
      t.equal(r.kind, kind);
      t.same(scene.image.getData(), before, `${kind}: input untouched`);
      t.equal(r.mask.type, cv.CV_8UC1);
      t.equal(r.mask.cols, 320);
      const values = new Set(r.mask.getData());
      t.ok([...values].every((v) => v === 0 || v === 255), `${kind}: mask is 0/255`);
      const frac = r.mask.countNonZero() / scene.partMask.countNonZero();
      t.ok(frac >= 0.001 && frac <= 0.06, `${kind}#${i}: area ${(frac * 100).toFixed(2)} % of the part`);
      t.ok(insidePart(r.mask, scene.partMask), `${kind}: truth lies on the part`);
      t.ok(sameOutsideMask(scene.image, r.image, r.mask), `${kind}: nothing changed outside the mask`);
      const contrast = maskedContrast(scene.image, r.image, r.mask);
      t.ok(contrast >= 15, `${kind}#${i}: mean change ${contrast.toFixed(1)} grey levels inside the mask`);
    }
  }
});

t.test('generators are deterministic for a seed', async (t) => {
  const scene = new ProceduralPart(5).render(createRng(1));
  for (const kind of DEFECT_KINDS) {
    const a = injectDefect(scene.image, createRng(9), scene.partMask, { kind });
    const b = injectDefect(scene.image, createRng(9), scene.partMask, { kind });
    t.same(a.image.getData(), b.image.getData(), `${kind} image`);
    t.same(a.mask.getData(), b.mask.getData(), `${kind} mask`);
  }
});

t.test('works on grey images, without a part mask and with a donor', async (t) => {
  const scene = new ProceduralPart(8, 160, 120).render(createRng(2));
  const grey = scene.image.cvtColor(cv.COLOR_BGR2GRAY);
  for (const kind of DEFECT_KINDS) {
    const r = injectDefect(grey, createRng(4), undefined, { kind });
    t.equal(r.image.channels, 1, `${kind} keeps grey`);
    t.ok(r.mask.countNonZero() > 0, `${kind} has a mask without part mask`);
    t.ok(sameOutsideMask(grey, r.image, r.mask), `${kind}: nothing changed outside the mask`);
  }
  const donor = new ProceduralPart(8, 160, 120).render(createRng(3)).image;
  const r = injectDefect(scene.image, createRng(5), scene.partMask, { kind: 'cut-paste', donor });
  t.ok(r.mask.countNonZero() > 0);
  t.throws(() => injectDefect(scene.image, createRng(5), undefined, { kind: 'cut-paste', donor: grey }), {
    code: 'E_FRAME_INVALID',
  });
});

const sample = '../shared/data/mvtec-bottle/train/good/000.png';
t.test('defects on a real reference image', { skip: existsSync(sample) ? false : `${sample} not present` }, async (t) => {
  const image = (await readImageFile(sample)).resize(224, 224);
  for (const kind of DEFECT_KINDS) {
    const r = injectDefect(image, createRng(11), undefined, { kind });
    const frac = r.mask.countNonZero() / (224 * 224);
    t.ok(frac > 0.001 && frac < 0.06, `${kind}: ${(frac * 100).toFixed(2)} % of the image`);
    t.ok(maskedContrast(image, r.image, r.mask) >= 10, `${kind} visible`);
  }
});
