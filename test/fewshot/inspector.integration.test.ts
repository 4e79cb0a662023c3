import t from 'tap';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { SimSource } from '../../src/capture/sim/sim-source.js';
import type { Frame } from '../../src/capture/frame.js';
import { calibrateSimRecipe, SIM_CALIBRATION_FRAME_BASE } from '../../src/fewshot/recipe/sim-recipe.js';
import { openEngine } from '../../src/fewshot/engine.js';
import { Inspector } from '../../src/fewshot/inspector.js';
import { loadRecipe, saveRecipe } from '../../src/fewshot/recipe/recipe.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { defaultBundleDir, silentLogger } from '../pipeline/helpers.js';

const SIM = { kind: 'sim', width: 320, height: 240, defectRate: 0.5, seed: 7 } as const;
const FRAMES = 60;

t.test('recipe from simulated normals: defects fail, normals pass; reload gives identical scores', async (t) => {
  const cv = loadOpenCv();
  const logger = silentLogger();
  const engine = await openEngine(
    cv,
    { bundleDir: await defaultBundleDir(), executionProviders: ['cpu'], intraOpThreads: 0, taps: defaultRecipeSettings().taps },
    logger,
  );
  t.teardown(() => engine.close());

  const t0 = performance.now();
  const recipe = await calibrateSimRecipe(cv, engine, 'sim-part', SIM, { intraOpThreads: 0, logger });
  t.comment(`calibrated from ${recipe.references.length} clean renders in ${(performance.now() - t0).toFixed(0)} ms; threshold ${recipe.boundary.threshold.toFixed(4)} (${recipe.boundary.rule})`);
  t.equal(recipe.references.length, 8);
  t.equal(recipe.references[0].name, `sim:${SIM_CALIBRATION_FRAME_BASE}`, 'calibration renders are far from the live frame numbers');
  t.equal(new Set(recipe.references.map((r) => r.sha256)).size, 8, 'eight distinct renders');

  const inspector = await Inspector.open(engine, recipe, { masks: true });
  const sim = new SimSource(SIM, { cameraId: 'cam1', logger });
  await sim.open();
  const frames: Frame[] = [];
  const scores: number[] = [];
  let defects = 0;
  let defectsFailed = 0;
  let goods = 0;
  let goodsPassed = 0;
  for (let i = 0; i < FRAMES; i++) {
    const frame = (await sim.read())!;
    const v = await inspector.inspect(frame);
    frames.push(frame);
    scores.push(v.score);
    if (frame.truthLabel === 'defect') {
      defects++;
      if (!v.pass) defectsFailed++;
      if (!v.pass) t.ok(v.locations.length > 0 && v.maskPng && v.maskPng.length > 0, `failed frame ${frame.seq} has a location and a mask`);
    } else {
      goods++;
      if (v.pass) goodsPassed++;
    }
  }
  const failRate = defectsFailed / defects;
  const passRate = goodsPassed / goods;
  t.comment(`defects failed: ${defectsFailed}/${defects} (${(100 * failRate).toFixed(1)} %); normals passed: ${goodsPassed}/${goods} (${(100 * passRate).toFixed(1)} %)`);
  t.ok(defects >= 15 && goods >= 15, 'both classes are represented');
  t.ok(failRate >= 0.8, `≥ 80 % of simulated defects fail (${(100 * failRate).toFixed(1)} %)`);
  t.ok(passRate >= 0.8, `≥ 80 % of simulated normals pass (${(100 * passRate).toFixed(1)} %)`);

  // Memory bank persisted and reloaded: bit-identical bank, identical verdict scores.
  const dir = t.testdir();
  await saveRecipe(dir, recipe);
  const reloaded = await loadRecipe(dir, 'sim-part');
  t.equal(reloaded.version, recipe.version);
  t.same(reloaded.boundary, recipe.boundary);
  reloaded.bank.forEach((tap, i) => t.ok(Buffer.from(tap.vectors.buffer, tap.vectors.byteOffset, tap.vectors.byteLength).equals(Buffer.from(recipe.bank[i].vectors.buffer, recipe.bank[i].vectors.byteOffset, recipe.bank[i].vectors.byteLength)), `bank tap ${tap.name} is bit-identical`));
  const again = await Inspector.open(engine, reloaded, { masks: true });
  const rescored: number[] = [];
  for (const f of frames.slice(0, 12)) rescored.push((await again.inspect(f)).score);
  t.same(rescored, scores.slice(0, 12), 'identical scores from the reloaded recipe');
});
