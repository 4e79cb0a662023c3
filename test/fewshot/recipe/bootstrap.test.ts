/**
 * Bootstrapping a recipe from unlabelled frames: mutual scoring drops the defective frames
 * of a pool that is mostly good (simulated parts, real encoder and scorer graphs).
 */
import t from 'tap';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { ErrorCodes } from '../../../src/errors.js';
import { selectNormalFrames } from '../../../src/fewshot/recipe/bootstrap.js';
import { defaultRecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

t.test('selectNormalFrames drops the defective frames of a mostly good pool', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const good = (await simRenders([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { seed: 8 })).map((p) => p.clean);
  const bad = (await simRenders([51, 52, 53, 54, 55, 56], { seed: 8, defectRate: 1 })).filter((p) => p.label === 'defect').slice(0, 2);
  t.equal(bad.length, 2, 'two defective renders');
  // Defective frames at positions 3 and 9 of 14.
  const frames = [...good.slice(0, 3), bad[0].image, ...good.slice(3, 8), bad[1].image, ...good.slice(8)];
  const sel = await selectNormalFrames(cv, frames, engine, { ...defaultRecipeSettings(), taps: TAPS }, 1);
  t.ok(sel.dropped.includes(3) && sel.dropped.includes(9), `both defective frames dropped (dropped ${sel.dropped.join(', ')}; scores ${sel.scores.map((s) => s.toFixed(3)).join(' ')})`);
  t.ok(sel.dropped.length <= 4, 'most good frames kept');
  t.same([...sel.keep, ...sel.dropped].sort((a, b) => a - b), frames.map((_, i) => i), 'every frame either kept or dropped');
  t.ok(sel.rounds >= 1);
  await t.rejects(selectNormalFrames(cv, frames.slice(0, 2), engine, defaultRecipeSettings(), 1), { code: ErrorCodes.RECIPE_NO_REFERENCES });
});
