/**
 * `anomalygpt-edge eval DIR --shots K [--draws N] [--json OUT] [--out DIR]`
 * Prints per-category image AUROC, pixel AUROC, accuracy (mean ± std over draws; 10 draws
 * by default, the reporting protocol) and ms per test image.
 * `--json OUT` writes the summary with each draw's image ROC curve (schema
 * anomalygpt-edge/eval@1); written to `<stateDirectory>/eval/latest.json` it is what the
 * technician's page plots (Numbers).
 * `--feedback N` / `--bootstrap N [--contamination F]`: the line experiments instead
 * (eval-experiments.ts).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOpenCv } from '../capture/opencv.js';
import { loadDataset } from '../eval/dataset.js';
import { evaluateCategory, type CategoryResult, type ScoredHook } from '../eval/evaluate.js';
import { judge } from '../judge/judge.js';
import { overlayPng } from '../judge/mask-image.js';
import { rocPlotSvg } from '../eval/roc-plot.js';
import { openEngine } from '../fewshot/engine.js';
import type { Logger } from '../log.js';
import { recipeOptions, recipeSettingsFromArgs } from './recipe-args.js';
import { runExperiment } from './eval-experiments.js';
import { meanStd } from '../eval/metrics.js';

export async function evalCommand(argv: string[], logger: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      shots: { type: 'string', default: '1' },
      draws: { type: 'string', default: '10' },
      feedback: { type: 'string' },
      bootstrap: { type: 'string' },
      contamination: { type: 'string', default: '0.1' },
      seed: { type: 'string', default: '0' },
      json: { type: 'string' },
      out: { type: 'string' },
      raw: { type: 'string' },
      overlays: { type: 'string', default: '3' },
      ...recipeOptions,
    },
  });
  if (positionals.length !== 1) {
    throw new Error('usage: anomalygpt-edge eval DIR --shots K [--draws N] [--json OUT] [--out DIR] [--feedback N | --bootstrap N [--contamination F]]');
  }
  const cv = loadOpenCv();
  const { engineOptions, settings } = recipeSettingsFromArgs(values);
  const engine = await openEngine(cv, engineOptions, logger);
  const shots = Number(values.shots);
  const draws = Number(values.draws);
  const categories = await loadDataset(positionals[0]);
  const results: CategoryResult[] = [];
  if (values.feedback !== undefined || values.bootstrap !== undefined) {
    const experiments: unknown[] = [];
    try {
      for (const cat of categories) {
        experiments.push(await runExperiment(cv, cat, engine, {
          shots, draws, seed: Number(values.seed), settings,
          feedback: values.feedback !== undefined ? Number(values.feedback) : undefined,
          bootstrap: values.bootstrap !== undefined ? Number(values.bootstrap) : undefined,
          contamination: Number(values.contamination),
        }, (s) => process.stdout.write(s), (s) => process.stderr.write(s)));
      }
    } finally {
      await engine.close();
    }
    if (values.json) await writeFile(values.json, `${JSON.stringify({ dataset: positionals[0], shots, draws, settings, experiments }, null, 2)}\n`);
    return 0;
  }
  try {
    for (const cat of categories) {
      process.stderr.write(`${cat.name}: ${cat.train.length} train/good, ${cat.test.length} test images, ${shots}-shot × ${draws} draws\n`);
      const r = await evaluateCategory(cv, cat, engine, {
        shots,
        draws,
        seed: Number(values.seed),
        settings,
        progress: (e) => process.stderr.write(`\r  draw ${e.draw}/${draws} ${e.stage} ${e.done}/${e.total}   `),
        onScored: values.out ? overlayWriter(values.out, Number(values.overlays)) : undefined,
      });
      process.stderr.write('\n');
      results.push(r);
      const fmt = (m: { mean: number; std: number } | null, digits = 3) => (m ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : 'n/a');
      process.stdout.write(
        `${cat.name.padEnd(16)} image AUROC ${fmt(r.imageAuroc)}  pixel AUROC ${fmt(r.pixelAuroc)}  accuracy ${fmt(r.accuracy)}  ${fmt(meanStd(r.draws.map((d) => d.msPerImage)), 1)} ms/image\n`,
      );
    }
  } finally {
    await engine.close();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pix = results.map((r) => r.pixelAuroc?.mean).filter((x): x is number => x !== undefined);
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const summary = {
    schema: 'anomalygpt-edge/eval@1',
    createdAt: new Date().toISOString(),
    dataset: positionals[0],
    shots,
    draws,
    bundle: { id: engine.bundle.manifest.id, version: engine.bundle.manifest.version },
    settings,
    image_auroc: mean(results.map((r) => r.imageAuroc.mean)),
    pixel_auroc: pix.length ? mean(pix) : null,
    accuracy: mean(results.map((r) => r.accuracy.mean)),
    categories: results.map((r) => ({
      name: r.name, image_auroc: r.imageAuroc, pixel_auroc: r.pixelAuroc, accuracy: r.accuracy,
      ms_per_image: meanStd(r.draws.map((d) => d.msPerImage)), thresholds: r.draws.map((d) => d.threshold),
      // Each draw's image-level ROC (one point per distinct score; rounded to 1e-4).
      roc: r.draws.map((d) => ({ auroc: d.imageAuroc, fpr: d.roc.fpr.map(r4), tpr: d.roc.tpr.map(r4) })),
    })),
  };
  if (values.json) {
    await mkdir(dirname(values.json), { recursive: true });
    await writeFile(values.json, `${JSON.stringify(summary, null, 2)}\n`);
  }
  if (values.raw) await writeFile(values.raw, JSON.stringify(results));
  if (values.out) {
    await mkdir(values.out, { recursive: true });
    for (const r of results) {
      const svg = rocPlotSvg(
        r.draws.map((d, i) => ({ label: `${r.name} draw ${i + 1}`, fpr: d.roc.fpr, tpr: d.roc.tpr, auroc: d.imageAuroc })),
        `${r.name} ${shots}-shot image ROC`,
      );
      await writeFile(join(values.out, `${r.name}-roc.svg`), svg);
    }
  }
  return 0;
}

/** Writes overlays of the first `perType` images of each test type, first draw only. */
function overlayWriter(dir: string, perType: number): ScoredHook {
  const written = new Map<string, number>();
  return async (e) => {
    const key = `${e.category}/${e.item.type}`;
    if (e.draw !== 0 || (written.get(key) ?? 0) >= perType) return;
    written.set(key, (written.get(key) ?? 0) + 1);
    const j = judge(e.map, e.crop, { width: e.image.cols, height: e.image.rows }, { boundary: e.boundary, score: e.score, masks: false });
    const png = overlayPng(e.image, e.map.data, e.map.width, e.map.height, { threshold: j.threshold, locations: j.locations, pass: j.pass, score: j.score });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${e.category}-${e.item.type}-${basename(e.item.path, extname(e.item.path))}.overlay.png`), png);
  };
}
