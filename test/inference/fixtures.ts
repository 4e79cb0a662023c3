/**
 * Shared by the inference, recipe, judge and eval tests: the real default bundle (built into
 * a temp folder when the repository has none), a silent logger, an engine on one CPU thread
 * (the test machine has 2 cores and tap runs 2 files at once), and simulated part images.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDefaultBundle } from '../../models/build-default-bundle.js';
import { loadOpenCv, type Mat } from '../../src/capture/opencv.js';
import { SimSource } from '../../src/capture/sim/sim-source.js';
import { openEngine, type Engine } from '../../src/inference/engine.js';
import { createLogger, type Logger } from '../../src/log.js';

/*
 * opencv4nodejs registers every Mat's memory with V8; a Mat finalised during V8's isolate
 * teardown after a natural exit crashes in AdjustAmountOfExternalAllocatedMemory (a sporadic
 * SIGSEGV after every test passed; gdb: cv::Mat::release ← IsolateData::~IsolateData).
 * process.exit() leaves without that teardown; the exit code tap set is kept.
 */
process.once('beforeExit', () => process.exit());

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPO_BUNDLE = join(REPO_ROOT, 'models', 'bundles', 'mobilenetv2-nsfwjs');

let built: Promise<string> | undefined;

/** The default bundle folder (`npm run build:models`); built once per process into a temp folder when absent. */
export function defaultBundleDir(): Promise<string> {
  if (existsSync(join(REPO_BUNDLE, 'manifest.json'))) return Promise.resolve(REPO_BUNDLE);
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agpt-bundle-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildDefaultBundle(dir);
    return dir;
  })();
  return built;
}

export const silentLogger = (): Logger => createLogger({ level: 'silent' });

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

/** Seeded uniform [0, 1) (mulberry32), local so a change elsewhere cannot shift the test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
