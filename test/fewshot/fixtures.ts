/**
 * Shared by the inference, recipe, judge and eval tests: the real default bundle (built into
 * a temp folder when the repository has none), a silent logger, an engine on one CPU thread
 * (the test machine has 2 cores and tap runs 2 files at once), and simulated part images.
 */
import { loadOpenCv, type Mat } from '../../src/capture/opencv.js';
import { SimSource } from '../../src/capture/sim/sim-source.js';
import { openEngine, type Engine } from '../../src/fewshot/engine.js';
import { mulberry32 } from '../../src/util/prng.js';


import { REPO_ROOT, defaultBundleDir } from '../support/bundle.js';
import { silentLogger } from '../support/logger.js';
export { silentLogger };

export { REPO_ROOT, defaultBundleDir };

/** The default bundle on the CPU provider, one intra-op thread. */
export async function cpuEngine(taps?: readonly string[]): Promise<Engine> {
  return openEngine(
    loadOpenCv(),
    { bundleDir: await defaultBundleDir(), executionProviders: ['cpu'], intraOpThreads: 1, ...(taps ? { taps } : {}) },
    silentLogger(),
  );
}

export interface SimPart {
  readonly image: Mat;
  readonly clean: Mat;
  readonly label: 'good' | 'defect';
  readonly mask?: Mat;
}

/** Renders n of a procedural simulated camera (frame n is a pure function of seed and n). */
export async function simRenders(
  frames: readonly number[],
  opts: { seed?: number; width?: number; height?: number; defectRate?: number } = {},
): Promise<SimPart[]> {
  const sim = new SimSource(
    { kind: 'sim', width: opts.width ?? 224, height: opts.height ?? 224, defectRate: opts.defectRate ?? 0, seed: opts.seed ?? 1 },
    { cameraId: 'test', logger: silentLogger() },
  );
  await sim.open();
  const out = frames.map((n) => sim.renderFrame(n));
  await sim.close();
  return out;
}

/** Seeded uniform [0, 1). */
export const rng = mulberry32;
