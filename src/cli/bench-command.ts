/**
 * `anomalygpt-edge bench [--json OUT] [--seconds S] [--shots K]`: inspections/s and per-stage
 * p50/p99 with the default bundle and a k-shot recipe (default 4). References and frames
 * come from ../shared/data/mvtec-bottle when present, else from the simulated camera.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readImageFile, matToFrame } from '../capture/image-io.js';
import { loadOpenCv, type Mat } from '../capture/opencv.js';
import { SimSource } from '../capture/sim/sim-source.js';
import { packageRoot } from '../config/index.js';
import { listImages } from '../eval/dataset.js';
import { runBench } from '../eval/bench.js';
import { openEngine } from '../fewshot/engine.js';
import type { Logger } from '../log.js';
import { Inspector } from '../fewshot/inspector.js';
import { makeRecipe } from '../fewshot/recipe/make-recipe.js';
import { recipeOptions, recipeSettingsFromArgs } from './recipe-args.js';

export async function benchCommand(argv: string[], logger: Logger): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      shots: { type: 'string', default: '4' },
      data: { type: 'string' },
      ...recipeOptions,
    },
  });
  const cv = loadOpenCv();
  const { engineOptions, settings } = recipeSettingsFromArgs(values);
  const engine = await openEngine(cv, engineOptions, logger);
  try {
    const shots = Number(values.shots);
    const { refs, frames, source } = await benchImages(values.data ?? join(packageRoot(), '..', 'shared', 'data', 'mvtec-bottle'), shots, logger);
    process.stderr.write(`bench: ${shots}-shot recipe from ${source}, ${frames.length} frames, ${engine.provider} provider`);
    const recipe = await makeRecipe(cv, 'bench', engine, { images: refs, references: refs.map((_, i) => ({ name: `ref${i}`, sha256: '' })), skipped: [] }, settings, 0);
    process.stderr.write(`, input ${recipe.settings.input.width}x${recipe.settings.input.height}\n`);
    const inspector = await Inspector.open(engine, recipe, { masks: true });
    const frameObjs = frames.map((m, i) => matToFrame(m, { cameraId: 'bench', seq: i + 1, capturedAt: Date.now(), origin: `bench:${i}` }));
    const r = await runBench(engine, inspector, frameObjs, {
      seconds: Number(values.seconds),
      warmup: 10,
      progress: (n) => process.stderr.write(`\r  ${n} inspections`),
    });
    process.stderr.write('\n');
    const f = (s: { p50_ms: number; p99_ms: number }) => `p50 ${s.p50_ms.toFixed(2)} ms  p99 ${s.p99_ms.toFixed(2)} ms`;
    process.stdout.write(
      [
        `inspections/s        ${r.inspections_per_s.toFixed(1)}  (${r.inspections} inspections, one frame in flight, each followed by a bare run)`,
        `inspection           ${f(r)}`,
        ...Object.entries(r.stages).map(([k, s]) => `  ${k.padEnd(18)} ${f(s)}`),
        `bare encoder run     ${f(r.bare_encoder)}  (${r.bare_encoder.runs_per_s.toFixed(1)} runs/s)`,
        `pipeline / bare run  ${r.overhead_ratio.toFixed(2)}x (mean inspection time ÷ mean bare session.run time, runs interleaved)`,
        '',
      ].join('\n'),
    );
    if (values.json) await writeFile(values.json, `${JSON.stringify(r, null, 2)}\n`);
  } finally {
    await engine.close();
  }
  return 0;
}

async function benchImages(dir: string, shots: number, logger: Logger): Promise<{ refs: Mat[]; frames: Mat[]; source: string }> {
  if (existsSync(join(dir, 'train', 'good'))) {
    const train = await listImages(join(dir, 'train', 'good'));
    const test = [...(await listImages(join(dir, 'test', 'good'))), ...(await listImages(join(dir, 'test', 'broken_large')))];
    return {
      refs: await Promise.all(train.slice(0, shots).map((p) => readImageFile(p))),
      frames: await Promise.all(test.slice(0, 32).map((p) => readImageFile(p))),
      source: dir,
    };
  }
  const sim = new SimSource({ kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 7 }, { cameraId: 'bench', logger });
  await sim.open();
  return {
    refs: Array.from({ length: shots }, (_, i) => sim.renderFrame(10_000 + i).clean),
    frames: Array.from({ length: 32 }, (_, i) => sim.renderFrame(i).image),
    source: 'the simulated camera (shared data not found)',
  };
}
