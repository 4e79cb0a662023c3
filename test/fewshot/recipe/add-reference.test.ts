/**
 * addReference: one more normal reference for a live recipe without recalibrating the rest
 * (the web page's "good part — false reject"), under 1 s; real encoder and scorer graphs.
 */
import t from 'tap';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { ErrorCodes } from '../../../src/errors.js';
import { addReference } from '../../../src/fewshot/recipe/add-reference.js';
import { scorerFor } from '../../../src/fewshot/recipe/calibrate.js';
import { makeRecipe } from '../../../src/fewshot/recipe/make-recipe.js';
import { defaultRecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fixtures.js';
import { imageScore } from '../../../src/judge/anomaly-map.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

t.test('add a reference: held-out score, bank grown, boundary re-derived, new version', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const parts = (await simRenders([41, 42, 43], { seed: 6 })).map((p) => p.clean);
  const settings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 4, syntheticDefects: 4 };
  const refs = { images: parts.slice(0, 2), references: [{ name: 'a.png', sha256: '' }, { name: 'b.png', sha256: '' }], skipped: [] };
  const recipe = await makeRecipe(cv, 'live', engine, refs, settings, 1);
  const scorer = await scorerFor(recipe.bank, recipe.map, engine.openSession);
  t.teardown(() => scorer.release());
  const enc = await engine.encoder.encode(parts[2], recipe.settings.input);
  const before = imageScore(await scorer.run(enc.taps), recipe.settings.score);

  const bytes = new Uint8Array(cv.imencode('.png', parts[2]));
  const added = await addReference(engine, recipe, { image: parts[2], bytes, name: 'c.png' }, { scorer });
  t.ok(added.ms < 1000, `added in ${added.ms.toFixed(0)} ms (< 1 s)`);
  t.equal(added.score, before, 'its score is its score against the recipe before (its held-out score)');
  t.not(added.recipe.version, recipe.version, 'a new version');
  t.same(added.recipe.references.map((r) => r.name), ['a.png', 'b.png', 'c.png']);
  t.equal(added.recipe.references[2].file, 'references/002-c.png');
  t.equal(added.recipe.referenceImages?.[2], bytes);
  t.same(added.recipe.calibration.heldOut, recipe.calibration.heldOut, 'held-out evidence unchanged (a selected part is no sample of normal ones)');
  t.same(added.recipe.calibration.added?.map((a) => [a.name, a.score]), [['c.png', before]], 'its score is recorded');
  t.ok((added.recipe.calibration.added?.[0].tail.length ?? 0) > 0);
  t.same(added.rowsAdded, recipe.bank.map((b) => b.height * b.width), 'no coreset: every patch of the new image');
  t.same(added.recipe.bank.map((b) => b.count), recipe.bank.map((b) => b.count * 1.5));
  t.same([...(added.recipe.bankSources?.[2].subarray(-3) ?? [])], [2, 2, 2], 'new rows belong to reference 2');
  t.same(added.recipe.boundary, recipe.boundary, 'the boundary is derived from the same evidence');

  const after = await scorerFor(added.recipe.bank, added.recipe.map, engine.openSession);
  t.teardown(() => after.release());
  const self = imageScore(await after.run(enc.taps), recipe.settings.score);
  t.ok(self < 1e-4, `the added image now matches itself (score ${self.toExponential(2)})`);

  const other = { ...recipe, bundle: { id: 'other', version: '1' } };
  await t.rejects(addReference(engine, other, { image: parts[2], bytes, name: 'c.png' }), { code: ErrorCodes.RECIPE_BUNDLE_MISMATCH });
});
