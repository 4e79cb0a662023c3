/**
 * The line experiments of `eval` (feedback, bootstrap) end to end on a simulated MVTec-layout
 * category: protocol bookkeeping (which images go where) and that they measure something.
 */
import t from 'tap';
import { join } from 'node:path';
import { TAPS, cv, imageName, writeImage } from './sim-category.js';
import { bootstrapExperiment } from '../../src/eval/bootstrap-eval.js';
import { loadDataset } from '../../src/eval/dataset.js';
import { feedbackExperiment } from '../../src/eval/feedback.js';
import { shuffled } from '../../src/eval/test-stream.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fewshot/fixtures.js';

const name = imageName;
const write = writeImage;

t.test('feedback and bootstrap experiments on a simulated category', async (t) => {
  const root = join(t.testdir(), 'simpart');
  const size = { width: 224, height: 224, seed: 3 };
  (await simRenders([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], size)).forEach((r, i) => write(join(root, 'train', 'good'), name(i), r.clean));
  (await simRenders([101, 102, 103, 104, 105, 106, 107, 108], size)).forEach((r, i) => write(join(root, 'test', 'good'), name(i), r.clean));
  const defects = (await simRenders([201, 202, 203, 204, 205, 206, 207, 208], { ...size, defectRate: 1 })).filter((r) => r.label === 'defect');
  defects.forEach((r, i) => write(join(root, 'test', 'defect'), name(i), r.image));
  const [cat] = await loadDataset(root);
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const settings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 4, syntheticDefects: 4 };

  // A deliberately tight boundary (half the good parts rejected) so there are false rejects to mark.
  const tight = { ...settings, syntheticDefects: 0, falseRejectTarget: 0.5 };
  const fb = await feedbackExperiment(cv, cat, engine, { shots: 1, draws: 2, seed: 0, settings: tight, feedback: 3 });
  t.equal(fb.length, 2);
  t.ok(fb.some((d) => d.marked.length > 0), `false rejects were marked (${fb.map((d) => d.marked.length).join(', ')})`);
  for (const d of fb) {
    t.ok(d.marked.length <= 3, `at most 3 marked (${d.marked.length})`);
    t.ok(d.marked.every((p) => p.includes('/test/good/')), 'only good images are marked');
    t.equal(d.before.images, cat.test.length - d.marked.length, 'metrics on the images not marked');
    t.equal(d.after.images, d.before.images);
    t.equal(d.rebuilt.images, d.before.images);
    t.equal(d.rebuiltLine.images, d.before.images);
    t.ok(Number.isFinite(d.thresholds.rebuilt), 'the rebuilt recipe has its own boundary');
    t.equal(d.addMs.length, d.marked.length);
    if (d.marked.length > 0) {
      t.equal(d.thresholds.after, d.thresholds.before, 'marked parts enlarge the bank, not the boundary evidence');
      t.ok(d.after.falseRejects <= d.before.falseRejects + 1, `false rejects ${d.before.falseRejects} → ${d.after.falseRejects}`);
    }
  }
  t.same(shuffled([1, 2, 3, 4], 7), shuffled([1, 2, 3, 4], 7), 'the stream order is seeded');
  t.same([...shuffled([1, 2, 3, 4], 7)].sort(), [1, 2, 3, 4], 'and a permutation');

  const bs = await bootstrapExperiment(cv, cat, engine, { frames: 8, contamination: 0.25, draws: 1, seed: 0, settings });
  const d = bs[0];
  t.equal(d.pool.length, 8);
  t.equal(d.pool.filter((p) => p.defective).length, 2, '25 % of 8 frames defective');
  const pooled = new Set(d.pool.filter((p) => p.defective).map((p) => p.path));
  t.equal(d.bootstrap.images, cat.test.length - pooled.size, 'judged on the test images not in the pool');
  t.equal(d.naive.images, d.bootstrap.images);
  t.equal(d.clean.images, d.bootstrap.images);
  t.ok(d.droppedDefective >= 1, `mutual scoring dropped ${d.droppedDefective} of 2 defective frames (dropped ${d.dropped.length})`);
  t.ok(d.bootstrap.imageAuroc >= d.naive.imageAuroc - 0.05, `bootstrap AUROC ${d.bootstrap.imageAuroc.toFixed(3)} vs naive ${d.naive.imageAuroc.toFixed(3)}`);
});
