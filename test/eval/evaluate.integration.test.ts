/**
 * evaluateCategory end to end on an MVTec-layout dataset the test makes with the simulator:
 * train/good and test/good from clean renders, test/defect from defect renders with their
 * truth masks in ground_truth/defect/NNN_mask.png.
 */
import t from 'tap';
import { join } from 'node:path';
import { TAPS, cv, imageName, writeImage } from './sim-category.js';
import type { Mat } from '../../src/capture/opencv.js';
import { loadDataset } from '../../src/eval/dataset.js';
import { evaluateCategory } from '../../src/eval/evaluate.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fewshot/fixtures.js';

const name = imageName;
const write = writeImage;

t.test('evaluateCategory on a simulated MVTec-layout category', async (t) => {
  const root = join(t.testdir(), 'simpart');
  const size = { width: 224, height: 224, seed: 3 };
  (await simRenders([1, 2, 3, 4], size)).forEach((r, i) => write(join(root, 'train', 'good'), name(i), r.clean));
  (await simRenders([101, 102, 103, 104, 105, 106, 107, 108], size)).forEach((r, i) => write(join(root, 'test', 'good'), name(i), r.clean));
  const defects = (await simRenders([201, 202, 203, 204, 205, 206, 207, 208], { ...size, defectRate: 1 })).filter((r) => r.label === 'defect' && r.mask);
  t.ok(defects.length >= 6, `${defects.length} defect renders`);
  defects.forEach((r, i) => {
    write(join(root, 'test', 'defect'), name(i), r.image);
    write(join(root, 'ground_truth', 'defect'), name(i).replace('.png', '_mask.png'), r.mask as Mat);
  });

  const [cat] = await loadDataset(root);
  t.equal(cat.hasMasks, true);
  t.equal(cat.test.filter((x) => x.maskPath).length, defects.length, 'every defect has its mask');

  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const events: string[] = [];
  const settings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 4, syntheticDefects: 4 };
  const r = await evaluateCategory(cv, cat, engine, { shots: 2, draws: 2, seed: 10, settings, progress: (e) => events.push(`${e.draw}:${e.stage}`) });

  t.equal(r.name, 'simpart');
  t.equal(r.shots, 2);
  t.equal(r.draws.length, 2);
  for (const d of r.draws) {
    t.equal(d.references.length, 2);
    t.equal(d.scores.length, cat.test.length, 'every test image scored');
    t.ok(d.imageAuroc > 0.9, `draw seed ${d.seed}: image AUROC ${d.imageAuroc.toFixed(3)} > 0.9`);
    t.ok(d.pixelAuroc !== null && d.pixelAuroc > 0.5 && d.pixelAuroc <= 1, `pixel AUROC computed: ${d.pixelAuroc?.toFixed(3)}`);
    t.ok(d.accuracy >= 0 && d.accuracy <= 1, `accuracy ${d.accuracy.toFixed(3)}`);
    t.same(d.calibration.heldOut.length, 2, 'k = 2: held-out evidence');
    t.equal(d.calibration.perturbed.length, 4);
    t.equal(d.calibration.synthetic.length, 4);
    t.ok(Number.isFinite(d.threshold));
    t.same(d.scores.map((s) => s.fail), d.scores.map((s) => s.score > d.threshold), 'fail = score above the draw threshold');
    t.ok(d.roc.fpr.length === d.roc.tpr.length && d.roc.fpr.length > 1, 'ROC curve');
    t.ok(d.msPerImage > 0);
  }
  t.not(r.draws[0].references.join(), r.draws[1].references.join(), 'draws use different references');
  t.ok(Math.abs(r.imageAuroc.mean - (r.draws[0].imageAuroc + r.draws[1].imageAuroc) / 2) < 1e-12, 'mean over draws');
  t.ok(r.pixelAuroc !== null);
  t.ok(events.includes('1:encode references') && events.includes('2:score test images'), 'progress reported per draw and stage');

  const noMasks = { ...cat, hasMasks: false, test: cat.test.map((x) => ({ ...x, maskPath: undefined })) };
  const n = await evaluateCategory(cv, noMasks, engine, { shots: 1, draws: 1, seed: 10, settings });
  t.equal(n.draws[0].pixelAuroc, null, 'no masks: no pixel AUROC');
  t.equal(n.pixelAuroc, null);
  t.same(n.draws[0].calibration.heldOut, [], 'k = 1: no held-out evidence');
  t.ok(n.imageAuroc.mean > 0.9, `1-shot image AUROC ${n.imageAuroc.mean.toFixed(3)}`);
});
