/**
 * Recipes keep their reference images (issue 11): files in the recipe folder, re-saving a
 * loaded recipe keeps them, a rebuild from them reproduces the recipe, a tampered file is
 * refused. Real encoder, real images (simulated parts written as PNG files).
 */
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { ErrorCodes } from '../../../src/errors.js';
import { makeRecipe, readReferences } from '../../../src/fewshot/recipe/make-recipe.js';
import { rebuildRecipe } from '../../../src/fewshot/recipe/rebuild.js';
import { loadRecipe, saveRecipe } from '../../../src/fewshot/recipe/recipe.js';
import { readReferenceImages, referenceFileName } from '../../../src/fewshot/recipe/reference-files.js';
import { defaultRecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

t.test('reference images are kept, survive a re-save, and rebuild the same recipe', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const root = t.testdir();
  const src = join(root, 'images');
  mkdirSync(src);
  const parts = await simRenders([31, 32, 33], { seed: 4 });
  const names = ['a part.png', 'b.png', 'c.png'];
  parts.forEach((p, i) => writeFileSync(join(src, names[i]), cv.imencode('.png', p.clean)));
  const refs = await readReferences(names.map((n) => join(src, n)));
  const settings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 3, syntheticDefects: 3 };
  const recipe = await makeRecipe(cv, 'kept', engine, refs, settings, 5);
  t.same(recipe.references.map((r) => r.file), ['references/000-a_part.png', 'references/001-b.png', 'references/002-c.png']);
  t.same(recipe.bankSources?.map((s) => s.length), recipe.bank.map((b) => b.count), 'one source per bank row');

  const dir = join(root, 'recipes');
  const folder = await saveRecipe(dir, recipe);
  t.same(readdirSync(join(folder, 'references')).sort(), ['000-a_part.png', '001-b.png', '002-c.png']);
  t.ok(readFileSync(join(folder, 'references', '001-b.png')).equals(readFileSync(join(src, 'b.png'))), 'bytes kept exactly as read');

  const loaded = await loadRecipe(dir, 'kept');
  t.equal(loaded.referenceImages, undefined, 'images are not loaded with the recipe');
  t.same(loaded.bankSources?.map((s) => [...s]), recipe.bankSources?.map((s) => [...s]), 'sources.bin round trip');
  await saveRecipe(dir, loaded);
  t.same(readdirSync(join(folder, 'references')).length, 3, 're-saving a loaded recipe keeps its images');
  const { images } = await readReferenceImages(folder, loaded.references);
  t.same(images.map((m) => [m.cols, m.rows]), parts.map((p) => [p.clean.cols, p.clean.rows]));

  const rebuilt = await rebuildRecipe(cv, engine, dir, loaded);
  t.equal(rebuilt.version, recipe.version, 'same images, settings, seed and bundle: the same recipe version');
  t.same(rebuilt.boundary, recipe.boundary);

  writeFileSync(join(folder, 'references', '002-c.png'), cv.imencode('.png', parts[0].clean));
  await t.rejects(rebuildRecipe(cv, engine, dir, loaded), { code: ErrorCodes.RECIPE_INVALID, message: /sha256/ }, 'a replaced image is refused');
  const { references: _r, ...old } = loaded;
  await t.rejects(rebuildRecipe(cv, engine, dir, { ...old, references: [{ name: 'x.png', sha256: 'ab' }] }), { code: ErrorCodes.RECIPE_INVALID, message: /not kept/ });
});

t.test('referenceFileName keeps names inside the folder', async (t) => {
  t.equal(referenceFileName(3, '../../etc/passwd'), 'references/003-passwd');
  t.equal(referenceFileName(12, '..'), 'references/012-image');
  t.equal(referenceFileName(0, 'cam 1:frame#7.png'), 'references/000-cam_1_frame_7.png');
});
