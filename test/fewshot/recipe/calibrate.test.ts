import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { ErrorCodes } from '../../../src/errors.js';
import { calibrate, type CalibrationSettings } from '../../../src/fewshot/recipe/calibrate.js';
import { makeRecipe, readReferences } from '../../../src/fewshot/recipe/make-recipe.js';
import { defaultRecipeSettings, type RecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

const settings = (over: Partial<CalibrationSettings> = {}): CalibrationSettings => ({
  input: { width: 224, height: 224 },
  bankAugments: [],
  maxBankPerTap: 8192,
  smoothSigma: 0,
  pool: 1,
  score: { kind: 'max' },
  perturbations: 3,
  syntheticDefects: 2,
  seed: 7,
  ...over,
});

t.test('calibrate from simulated normal parts', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const refs = (await simRenders([1, 2, 3, 4], { seed: 5 })).map((r) => r.clean);
  const patches = [28 * 28, 14 * 14, 7 * 7]; // 224 / stride 8, 16, 32

  await t.test('k = 1: perturbed and synthetic evidence only', async (t) => {
    const progress: [number, number][] = [];
    const cal = await calibrate(cv, refs.slice(0, 1), engine.encoder, engine.taps, engine.openSession, settings(), (d, n) => progress.push([d, n]));
    t.same(cal.heldOutScores, [], 'no held-out scores with one reference');
    t.equal(cal.perturbedScores.length, 3);
    t.equal(cal.syntheticScores.length, 2);
    t.same(cal.normalScores, cal.perturbedScores, 'normal evidence = perturbed copies');
    t.same(cal.bank.map((b) => b.count), patches, 'bank: every patch of the one reference, per tap');
    t.same(cal.bank.map((b) => [b.name, b.channels, b.height, b.width]), [['block_5_add', 32, 28, 28], ['block_12_add', 96, 14, 14], ['block_15_add', 160, 7, 7]]);
    t.same(cal.map, { width: 28, height: 28, smoothSigma: 0, pool: 1 }, 'map at the finest tap resolution');
    for (const s of [...cal.normalScores, ...cal.syntheticScores]) t.ok(Number.isFinite(s) && s > -1e-4 && s < 2, `score ${s} in range`);
    t.same(progress.at(-1), [2, 2], 'progress reaches 2k of 2k');
    const norms = [0, 100, 300].map((i) => Math.hypot(...cal.bank[0].vectors.subarray(i * 32, (i + 1) * 32)));
    for (const n of norms) t.ok(Math.abs(n - 1) < 1e-5, 'bank vectors are unit norm');
  });

  await t.test('k = 4: held-out evidence, totals spread over the references, bank capped', async (t) => {
    const cal = await calibrate(cv, refs, engine.encoder, engine.taps, engine.openSession, settings({ perturbations: 8, syntheticDefects: 4, maxBankPerTap: 1000 }));
    t.equal(cal.heldOutScores.length, 4, 'one held-out score per reference');
    t.equal(cal.perturbedScores.length, 8, '8 perturbations in all (2 per reference)');
    t.equal(cal.syntheticScores.length, 4, '4 synthetic defects in all (1 per reference)');
    t.same(cal.normalScores, [...cal.heldOutScores, ...cal.perturbedScores]);
    t.same(cal.bank.map((b) => b.count), [1000, 4 * patches[1], 4 * patches[2]], 'the stride-8 tap (3136 patches) is capped at 1000');
    const maxNormal = Math.max(...cal.normalScores);
    t.ok(cal.syntheticScores.some((s) => s > Math.min(...cal.heldOutScores)), `synthetic defects score above the lowest normal (synthetic ${cal.syntheticScores.map((s) => s.toFixed(3))}, normal max ${maxNormal.toFixed(3)})`);
  });

  await t.test('bank augments: identity + variants; 90° turns only for square inputs', async (t) => {
    const square = await calibrate(cv, refs.slice(0, 1), engine.encoder, engine.taps, engine.openSession, settings({ bankAugments: ['hflip', 'rot90'], perturbations: 1, syntheticDefects: 0 }));
    t.same(square.bank.map((b) => b.count), patches.map((p) => 3 * p), 'three variants at 224×224');
    t.same(square.syntheticScores, [], 'syntheticDefects 0: none');
    const wide = await calibrate(cv, refs.slice(0, 1), engine.encoder, engine.taps, engine.openSession, settings({ input: { width: 256, height: 192 }, bankAugments: ['hflip', 'rot90'], perturbations: 1, syntheticDefects: 0 }));
    t.same(wide.bank.map((b) => b.count), [2 * 32 * 24, 2 * 16 * 12, 2 * 8 * 6], 'rot90 skipped at 256×192');
    t.same(wide.map, { width: 32, height: 24, smoothSigma: 0, pool: 1 });
  });

  await t.test('errors: no references, invalid input size', async (t) => {
    await t.rejects(calibrate(cv, [], engine.encoder, engine.taps, engine.openSession, settings()), { code: ErrorCodes.RECIPE_NO_REFERENCES });
    await t.rejects(calibrate(cv, refs.slice(0, 1), engine.encoder, engine.taps, engine.openSession, settings({ input: { width: 230, height: 224 } })), { code: ErrorCodes.RECIPE_INVALID });
  });
});

t.test('readReferences skips a zero-byte and a truncated file and reports them', async (t) => {
  const dir = t.testdir();
  const [a, b] = await simRenders([11, 12], { width: 160, height: 120 });
  const good = cv.imencode('.png', a.clean);
  const other = cv.imencode('.png', b.clean);
  const paths = ['a.png', 'empty.png', 'cut.png', 'b.png', 'missing.png'].map((n) => join(dir, n));
  writeFileSync(paths[0], good);
  writeFileSync(paths[1], Buffer.alloc(0));
  writeFileSync(paths[2], other.subarray(0, other.length >> 1));
  writeFileSync(paths[3], other);
  const set = await readReferences(paths);
  t.equal(set.images.length, 2, 'two usable images');
  t.same(set.images.map((m) => [m.cols, m.rows, m.channels]), [[160, 120, 3], [160, 120, 3]]);
  t.same(set.references, [
    { name: 'a.png', sha256: createHash('sha256').update(good).digest('hex') },
    { name: 'b.png', sha256: createHash('sha256').update(other).digest('hex') },
  ]);
  t.same(set.skipped.map((s) => [s.path, s.code]), [
    [paths[1], ErrorCodes.IMAGE_EMPTY],
    [paths[2], ErrorCodes.IMAGE_UNDECODABLE],
    [paths[4], 'ENOENT'],
  ]);
  for (const s of set.skipped) t.ok(s.message.length > 0, `${s.code} has a message`);
});

t.test('makeRecipe: a complete recipe from k = 1; zero usable references → E_RECIPE_NO_REFERENCES', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const dir = t.testdir();
  const [part] = await simRenders([21], { width: 320, height: 240 });
  writeFileSync(join(dir, 'ref.png'), cv.imencode('.png', part.clean));
  writeFileSync(join(dir, 'bad.png'), Buffer.alloc(0));
  const rs: RecipeSettings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 3, syntheticDefects: 3 };
  const refs = await readReferences([join(dir, 'ref.png'), join(dir, 'bad.png')]);
  const progress: string[] = [];
  const recipe = await makeRecipe(cv, 'part-a', engine, refs, rs, 42, (_d, _n, what) => progress.push(what));
  t.equal(recipe.id, 'part-a');
  t.match(recipe.version, /^[0-9a-f]{12}$/);
  t.same(recipe.bundle, { id: engine.bundle.manifest.id, version: engine.bundle.manifest.version });
  t.same(recipe.settings.input, { width: 256, height: 192 }, "'auto' resolved from 320×240");
  t.equal(recipe.settings.seed, 42);
  t.same(recipe.references.map((r) => r.name), ['ref.png']);
  t.same(recipe.calibration.heldOut, []);
  t.equal(recipe.calibration.perturbed.length, 3);
  t.equal(recipe.calibration.synthetic.length, 3);
  t.same(recipe.map, { width: 32, height: 24, smoothSigma: 0, pool: 1 });
  t.ok(Number.isFinite(recipe.boundary.threshold) && recipe.boundary.threshold >= Math.max(...recipe.calibration.perturbed), 'threshold at or above the normal evidence');
  t.ok(!Number.isNaN(Date.parse(recipe.createdAt)));
  t.ok(progress.includes('encode references'));

  const none = await readReferences([join(dir, 'bad.png')]);
  await t.rejects(makeRecipe(cv, 'part-b', engine, none, rs, 1), { code: ErrorCodes.RECIPE_NO_REFERENCES, message: /1 unreadable/ });
});
