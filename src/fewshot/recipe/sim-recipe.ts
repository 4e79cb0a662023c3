/**
 * A recipe for a simulated camera that has none yet: calibrated from clean renders of that
 * camera's own SimSource, so `anomalygpt-edge run` works out of the box with the default
 * config. The renders use frame numbers far beyond anything the live stream reaches
 * (frame n is a pure function of (seed, n)), so no calibration image is ever inspected live,
 * while the part type (fixed by the seed) is the same one the camera shows.
 */
import { createHash } from 'node:crypto';
import type { ImageLimits } from '../../capture/image-limits.js';
import type { Cv } from '../../capture/opencv.js';
import { SimSource } from '../../capture/sim/sim-source.js';
import type { SimSourceConfig } from '../../config/index.js';
import type { Engine } from '../engine.js';
import type { Logger } from '../../log.js';
import { scopedEngine } from '../scoped-engine.js';
import { makeRecipe } from './make-recipe.js';
import type { Recipe } from './recipe.js';
import { defaultRecipeSettings } from './settings.js';

/** Clean renders per simulated recipe (the few-shot k). */
const SIM_REFERENCE_COUNT = 8;
/** Frame numbers of the calibration renders start here (the live stream starts at 1). */
export const SIM_CALIBRATION_FRAME_BASE = 2_000_000_000;

export async function calibrateSimRecipe(
  cv: Cv,
  engine: Engine,
  id: string,
  source: SimSourceConfig,
  options: { intraOpThreads: number; logger: Logger; count?: number; limits?: ImageLimits },
): Promise<Recipe> {
  const count = options.count ?? SIM_REFERENCE_COUNT;
  const sim = new SimSource(options.limits ? { ...source, limits: options.limits } : source, { cameraId: `calibrate-${id}`, logger: options.logger });
  await sim.open();
  const scoped = scopedEngine(engine, options, options.logger);
  try {
    const images = [];
    const references = [];
    for (let i = 0; i < count; i++) {
      const n = SIM_CALIBRATION_FRAME_BASE + i;
      const clean = sim.renderFrame(n).clean;
      images.push(clean);
      references.push({ name: `sim:${n}`, sha256: createHash('sha256').update(clean.getData()).digest('hex') });
    }
    return await makeRecipe(cv, id, scoped.engine, { images, references, skipped: [] }, defaultRecipeSettings(), 0);
  } finally {
    await scoped.release();
    await sim.close();
  }
}
