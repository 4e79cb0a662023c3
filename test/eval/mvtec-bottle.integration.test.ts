/**
 * The real shared data: MVTec AD "bottle" (../shared/data/mvtec-bottle, test data only, never
 * copied into the repository), 1-shot, one draw, the default recipe settings.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { loadDataset } from '../../src/eval/dataset.js';
import { evaluateCategory } from '../../src/eval/evaluate.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { REPO_ROOT, cpuEngine } from '../fewshot/fixtures.js';

const DIR = join(REPO_ROOT, '..', 'shared', 'data', 'mvtec-bottle');

t.test('mvtec-bottle 1-shot: image AUROC ≥ 0.98', { skip: existsSync(join(DIR, 'train', 'good')) ? false : `${DIR} is absent (shared evaluation data not mounted)` }, async (t) => {
  const settings = defaultRecipeSettings();
  const engine = await cpuEngine(settings.taps);
  t.teardown(() => engine.close());
  const [cat] = await loadDataset(DIR);
  t.equal(cat.name, 'mvtec-bottle');
  t.equal(cat.train.length, 209);
  t.equal(cat.test.length, 83);
  const t0 = performance.now();
  const r = await evaluateCategory(loadOpenCv(), cat, engine, { shots: 1, draws: 1, seed: 0, settings });
  const d = r.draws[0];
  t.comment(`references ${d.references.map((p) => p.slice(-12)).join(', ')}; image AUROC ${d.imageAuroc.toFixed(4)}, accuracy ${d.accuracy.toFixed(3)}, threshold ${d.threshold.toFixed(4)}, ${d.msPerImage.toFixed(1)} ms/image, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t.ok(d.imageAuroc >= 0.98, `image AUROC ${d.imageAuroc.toFixed(4)} ≥ 0.98`);
  t.equal(d.pixelAuroc, null, 'this copy has no ground_truth masks');
  t.ok(d.accuracy > 0.5, `the calibrated boundary beats chance (balanced accuracy ${d.accuracy.toFixed(3)})`);
});
