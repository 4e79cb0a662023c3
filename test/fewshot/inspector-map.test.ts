/** Inspector (src/fewshot/inspector.ts): recipe/bundle checks and a complete Verdict. */
import t from 'tap';
import { matToFrame } from '../../src/capture/image-io.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { ErrorCodes } from '../../src/errors.js';
import { Inspector } from '../../src/fewshot/inspector.js';
import { makeRecipe } from '../../src/fewshot/recipe/make-recipe.js';
import type { Recipe } from '../../src/fewshot/recipe/recipe.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from './fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

t.test('Inspector', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const [ref, ref2] = await simRenders([1, 2], { seed: 9 });
  const [bad] = await simRenders([7], { seed: 9, defectRate: 1 });
  t.equal(bad.label, 'defect', 'the simulator made a defect frame');
  const recipe = await makeRecipe(
    cv, 'part-a', engine,
    { images: [ref.clean, ref2.clean], references: [{ name: 'r1', sha256: '0'.repeat(64) }, { name: 'r2', sha256: '1'.repeat(64) }], skipped: [] },
    { ...defaultRecipeSettings(), taps: TAPS, perturbations: 4, syntheticDefects: 4 },
    1,
  );

  await t.test('a recipe from another bundle version or with other taps → E_RECIPE_BUNDLE_MISMATCH', async (t) => {
    const other: Recipe = { ...recipe, bundle: { ...recipe.bundle, version: `${recipe.bundle.version}-old` } };
    await t.rejects(Inspector.open(engine, other, { masks: true }), { code: ErrorCodes.RECIPE_BUNDLE_MISMATCH, message: /recalibrate/ });
    const otherId: Recipe = { ...recipe, bundle: { ...recipe.bundle, id: 'another-bundle' } };
    await t.rejects(Inspector.open(engine, otherId, { masks: true }), { code: ErrorCodes.RECIPE_BUNDLE_MISMATCH });
    const narrow = await cpuEngine(['block_12_add', 'block_15_add']);
    t.teardown(() => narrow.close());
    await t.rejects(Inspector.open(narrow, recipe, { masks: true }), { code: ErrorCodes.RECIPE_BUNDLE_MISMATCH, message: /block_5_add/ });
    const badSize: Recipe = { ...recipe, settings: { ...recipe.settings, input: { width: 230, height: 224 } } };
    await t.rejects(Inspector.open(engine, badSize, { masks: true }), { code: ErrorCodes.RECIPE_INVALID });
  });

  await t.test('inspect returns a complete Verdict with timings', async (t) => {
    const inspector = await Inspector.open(engine, recipe, { masks: true });
    t.equal(inspector.recipe, recipe);
    const frame = matToFrame(ref.clean, { cameraId: 'cam1', seq: 5, capturedAt: 1_700_000_000_000, origin: 'sim:1' });
    const before = Date.now();
    const v = await inspector.inspect(frame);
    t.equal(v.id, 'cam1-1700000000000-5');
    t.match(v, { cameraId: 'cam1', seq: 5, capturedAt: 1_700_000_000_000, frame: { width: 224, height: 224, origin: 'sim:1' } });
    t.ok(v.decidedAt >= before && v.decidedAt <= Date.now());
    t.same(v.recipe, { id: 'part-a', version: recipe.version });
    t.same(v.model, { id: engine.bundle.manifest.id, version: engine.bundle.manifest.version });
    t.equal(v.threshold, recipe.boundary.threshold);
    t.ok(v.confidence >= 0.5 && v.confidence <= 1);
    const tm = v.timings;
    for (const k of ['preprocessMs', 'encoderMs', 'mapMs', 'judgeMs', 'totalMs'] as const) t.ok(tm[k] >= 0 && Number.isFinite(tm[k]), `${k} = ${tm[k].toFixed(2)}`);
    t.ok(tm.encoderMs > 0 && tm.mapMs > 0, 'encoder and map take time');
    t.ok(tm.totalMs + 1e-6 >= tm.preprocessMs + tm.encoderMs + tm.mapMs + tm.judgeMs, 'total covers the stages');
    t.equal(v.pass, true, `a reference itself passes (score ${v.score.toFixed(4)} vs threshold ${v.threshold.toFixed(4)})`);
    t.ok(v.score < 1e-3, 'a reference itself scores ~0');
    t.same(v.locations, []);
    t.equal(v.maskPng, undefined);

    const withMap = await inspector.inspectWithMap(matToFrame(bad.image, { cameraId: 'cam1', seq: 6, capturedAt: 1, origin: 'sim:7' }));
    const d = withMap.verdict;
    t.same([withMap.map.width, withMap.map.height], [28, 28]);
    t.same(withMap.crop, { x: 0, y: 0, width: 224, height: 224 });
    t.ok(d.score > v.score, `the defect scores higher (${d.score.toFixed(3)})`);
    t.equal(d.pass, false, 'the simulated defect fails');
    t.ok(d.locations.length > 0, 'with at least one location');
    t.ok(d.maskPng && d.maskPng.length > 0, 'and a mask');
  });
});
