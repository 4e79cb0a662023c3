import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { SimSource, type SimSourceOptions } from '../../src/capture/sim/sim-source.js';
import { ProceduralPart } from '../../src/capture/sim/procedural-part.js';
import { createRng } from '../../src/util/prng.js';
import { estimatePartMask } from '../../src/capture/sim/part-mask.js';
import type { Frame } from '../../src/capture/frame.js';
import type { CaptureLogger } from '../../src/capture/frame-source.js';

const cv = loadOpenCv();
const warnings: object[] = [];
const logger: CaptureLogger = { warn: (o) => void warnings.push(o), info: () => {}, debug: () => {} };

function sim(overrides: Partial<SimSourceOptions> = {}) {
  const options: SimSourceOptions = { kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 1, ...overrides };
  return new SimSource(options, { cameraId: 'sim', logger, now: () => 0 });
}

async function take(source: SimSource, n: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) frames.push((await source.read())!);
  return frames;
}

t.test('deterministic for a seed, different across seeds', async (t) => {
  const a = sim({ seed: 42 });
  const b = sim({ seed: 42 });
  const c = sim({ seed: 43 });
  await Promise.all([a.open(), b.open(), c.open()]);
  const fa = await take(a, 6);
  const fb = await take(b, 6);
  const fc = await take(c, 6);
  t.ok(fa.every((f, i) => Buffer.compare(f.data, fb[i].data) === 0), 'same seed, same pixels');
  t.same(fa.map((f) => f.truthLabel), fb.map((f) => f.truthLabel));
  t.ok(fa.some((f, i) => Buffer.compare(f.data, fc[i].data) !== 0), 'another seed differs');
  t.ok(Buffer.compare(fa[0].data, fa[1].data) !== 0, 'consecutive good parts vary');
  t.equal(fa[0].width, 320);
  t.equal(fa[0].height, 240);
  t.equal(fa[0].channels, 3);
  t.same(fa.map((f) => f.origin), ['sim:1', 'sim:2', 'sim:3', 'sim:4', 'sim:5', 'sim:6']);
  t.equal(a.live, false);
});

t.test('defect frames carry a truth mask that marks changed pixels', async (t) => {
  const source = sim({ defectRate: 1, seed: 7 });
  await source.open();
  const frames = await take(source, 8);
  const kinds = new Set<string>();
  for (const [i, f] of frames.entries()) {
    t.equal(f.truthLabel, 'defect');
    const mask = f.truthMask!;
    t.equal(mask.length, 320 * 240);
    const on = mask.reduce((n, v) => n + (v ? 1 : 0), 0);
    t.ok(on > 0, `frame ${f.seq}: mask has ${on} pixels`);
    const r = source.renderFrame(i + 1);
    kinds.add(r.defect!);
    t.same(r.image.getData(), f.data, 'renderFrame reproduces read()');
    const clean = r.clean.getData();
    let changed = 0;
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      const d = Math.max(...[0, 1, 2].map((c) => Math.abs(clean[p * 3 + c] - f.data[p * 3 + c])));
      if (d > 10) changed++;
    }
    t.ok(changed / on > 0.2, `frame ${f.seq}: ${((100 * changed) / on).toFixed(0)} % of the mask differs from the clean render`);
  }
  t.ok(kinds.size >= 2, `several defect kinds: ${[...kinds].join(', ')}`);
});

t.test('good frames have no mask; the rate is honoured', async (t) => {
  const none = sim({ defectRate: 0 });
  await none.open();
  const good = await take(none, 5);
  t.ok(good.every((f) => f.truthLabel === 'good' && f.truthMask === undefined));
  const mixed = sim({ defectRate: 0.3, seed: 3 });
  await mixed.open();
  const frames = await take(mixed, 40);
  const defects = frames.filter((f) => f.truthLabel === 'defect').length;
  t.ok(defects >= 5 && defects <= 20, `${defects}/40 defects at rate 0.3`);
  t.ok(frames.every((f) => (f.truthLabel === 'defect') === (f.truthMask !== undefined)));
});

t.test('renders from a folder of reference images', async (t) => {
  const dir = t.testdir({ 'broken.png': 'not an image' });
  const part = new ProceduralPart(9, 200, 150);
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `ref${i}.png`), cv.imencode('.png', part.render(createRng(i)).image));
  warnings.length = 0;
  const source = sim({ references: dir, width: 160, height: 120, defectRate: 0.5, seed: 5 });
  await source.open();
  t.equal(source.counters.unreadable, 1);
  t.equal(warnings.length, 1);
  const frames = await take(source, 10);
  t.ok(frames.every((f) => f.width === 160 && f.height === 120 && f.channels === 3));
  t.ok(frames.some((f) => f.truthLabel === 'defect') && frames.some((f) => f.truthLabel === 'good'));
  const again = sim({ references: dir, width: 160, height: 120, defectRate: 0.5, seed: 5 });
  await again.open();
  const second = await take(again, 3);
  t.ok(second.every((f, i) => Buffer.compare(f.data, frames[i].data) === 0), 'deterministic with references');
  const empty = t.testdir({});
  await t.rejects(sim({ references: empty }).open(), { code: 'E_CAMERA_OPEN' });
  await t.rejects(sim({ defectRate: 2 }).open(), { code: 'E_CAMERA_OPEN' });
});

t.test('part mask estimation', async (t) => {
  const scene = new ProceduralPart(4, 160, 120).render(createRng(1));
  const est = estimatePartMask(scene.image)!.getData();
  const truth = scene.partMask.getData();
  let inter = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    if (est[i] && truth[i]) inter++;
    if (est[i] || truth[i]) union++;
  }
  t.ok(inter / union > 0.7, `procedural part found, IoU ${(inter / union).toFixed(2)}`);
  // A frame-filling texture has no plain backdrop: the whole image counts as the part.
  const noise = Buffer.from(Array.from({ length: 100 * 100 * 3 }, (_, i) => ((i * 7919) % 251) & 0xff));
  t.equal(estimatePartMask(new cv.Mat(noise, 100, 100, cv.CV_8UC3)), undefined);
  const plain = new cv.Mat(100, 100, cv.CV_8UC3, [250, 250, 250]);
  plain.drawCircle(new cv.Point2(50, 50), 30, new cv.Vec3(40, 40, 40), -1);
  const mask = estimatePartMask(plain)!;
  const frac = mask.countNonZero() / (Math.PI * 30 * 30);
  t.ok(frac > 0.9 && frac < 1.1, `circle found (${frac.toFixed(2)})`);
});

const refs = '../shared/data/mvtec-bottle/train/good';
t.test('sim over real MVTec references', { skip: existsSync(refs) ? false : `${refs} not present` }, async (t) => {
  const source = sim({ references: refs, width: 224, height: 224, defectRate: 1, seed: 2 });
  await source.open();
  const [f] = await take(source, 1);
  t.equal(f.width, 224);
  t.equal(f.truthLabel, 'defect');
  t.ok(f.truthMask!.some((v) => v === 255));
});
