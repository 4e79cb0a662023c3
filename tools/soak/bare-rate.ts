/**
 * The soak's baseline: the same inspections (the daemon's recipe, the same simulated camera,
 * masks for fails) in a plain loop in this process — no record, no sinks, no HTTP — so the
 * daemon's full-rate figure can be given as a ratio to what inspection alone reaches here.
 */
import path from 'node:path';
import { SimSource } from '../../src/capture/sim/sim-source.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { openEngine } from '../../src/fewshot/engine.js';
import { Inspector } from '../../src/fewshot/inspector.js';
import { loadRecipe } from '../../src/fewshot/recipe/recipe.js';
import { createLogger } from '../../src/log.js';
import { repoRoot } from '../models/build-default-bundle.js';

export async function bareInspectionsPerSecond(o: { state: string; recipe: string; seconds: number }): Promise<number> {
  const logger = createLogger({ level: 'warn', destination: process.stderr as never });
  const recipe = await loadRecipe(path.join(o.state, 'recipes'), o.recipe);
  const engine = await openEngine(
    loadOpenCv(),
    { bundleDir: path.join(repoRoot(), 'models', 'bundles', 'mobilenetv2-nsfwjs'), executionProviders: ['cpu'], intraOpThreads: 0, taps: recipe.settings.taps },
    logger,
  );
  const sim = new SimSource({ kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 1 }, { cameraId: 'bare', logger });
  await sim.open();
  try {
    const inspector = await Inspector.open(engine, recipe, { masks: true });
    let n = 0;
    const end = performance.now() + o.seconds * 1000;
    const t0 = performance.now();
    while (performance.now() < end) {
      const frame = await sim.read();
      if (!frame) break;
      await inspector.inspect(frame);
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await sim.close();
    await engine.close();
  }
}
