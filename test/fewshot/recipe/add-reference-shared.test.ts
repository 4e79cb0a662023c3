/**
 * On real parts (../shared/data/mpdd-metal-plate, test data only): a 1-shot recipe rejects
 * good plates that hang at other angles; marking one false reject good (addReference) must
 * lower the false rejects on the other good plates. Skips when the shared data is absent.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { readImageFile } from '../../../src/capture/image-io.js';
import { loadDataset } from '../../../src/eval/dataset.js';
import { addReference } from '../../../src/fewshot/recipe/add-reference.js';
import { scorerFor } from '../../../src/fewshot/recipe/calibrate.js';
import { makeRecipe, readReferences } from '../../../src/fewshot/recipe/make-recipe.js';
import { defaultRecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { REPO_ROOT, cpuEngine } from '../fixtures.js';
import { imageScore } from '../../../src/judge/anomaly-map.js';

const DIR = join(REPO_ROOT, '..', 'shared', 'data', 'mpdd-metal-plate');

t.test('mpdd-metal-plate: one false reject marked good lowers the false rejects', { skip: existsSync(join(DIR, 'train', 'good')) ? false : `${DIR} is absent (shared evaluation data not mounted)` }, async (t) => {
  const cv = loadOpenCv();
  const settings = defaultRecipeSettings();
  const engine = await cpuEngine(settings.taps);
  t.teardown(() => engine.close());
  const [cat] = await loadDataset(DIR);
  const recipe = await makeRecipe(cv, 'plate', engine, await readReferences([cat.train[0]]), settings, 0);
  const goods = cat.test.filter((x) => !x.defective).map((x) => x.path);
  const score = async (r: typeof recipe, paths: string[]) => {
    const scorer = await scorerFor(r.bank, r.map, engine.openSession);
    const out: number[] = [];
    for (const p of paths) out.push(imageScore(await scorer.run((await engine.encoder.encode(await readImageFile(p), r.settings.input)).taps), r.settings.score));
    await scorer.release();
    return out;
  };
  const before = await score(recipe, goods);
  const rejected = goods.filter((_, i) => before[i] > recipe.boundary.threshold);
  t.ok(rejected.length > goods.length / 2, `1-shot: ${rejected.length} of ${goods.length} good plates rejected`);
  const path = rejected[0];
  const added = await addReference(engine, recipe, { image: await readImageFile(path), bytes: readFileSync(path), name: basename(path) });
  t.comment(`added in ${added.ms.toFixed(0)} ms; threshold ${recipe.boundary.threshold.toFixed(3)} → ${added.recipe.boundary.threshold.toFixed(3)} (${added.recipe.boundary.rule})`);
  t.ok(added.ms < 1000, `added in ${added.ms.toFixed(0)} ms (< 1 s, including opening a scorer)`);
  const rest = goods.filter((p) => p !== path);
  const after = await score(added.recipe, rest);
  const fr = (s: number[], thr: number) => s.filter((x) => x > thr).length;
  const frBefore = fr(rest.map((p) => before[goods.indexOf(p)]), recipe.boundary.threshold);
  const frAfter = fr(after, added.recipe.boundary.threshold);
  t.ok(frAfter < frBefore, `false rejects on the other ${rest.length} good plates: ${frBefore} → ${frAfter}`);
});
