/**
 * `eval`: few-shot evaluation on an MVTec-AD-layout folder. Per category and per seeded
 * draw of k references from train/good: calibrate exactly as `calibrate` does, score every
 * test image, and measure image AUROC, pixel AUROC (where masks exist) and the
 * threshold-free accuracy (mean of the per-class accuracies on good and defective images,
 * SPEC §6 "Binary prediction", decided by the recipe's own boundary).
 */
import type { Cv, Mat } from '../capture/opencv.js';
import { readImageFile } from '../capture/image-io.js';
import type { Engine } from '../fewshot/engine.js';
import { decide, deriveBoundary, type Boundary } from '../judge/boundary.js';
import { mapAtFrameSize } from '../judge/mask-image.js';
import { calibrate, scorerFor } from '../fewshot/recipe/calibrate.js';
import { resolveInputSize, type RecipeSettings } from '../fewshot/recipe/settings.js';
import { TestCache } from './test-cache.js';
import { evidenceOf } from '../fewshot/recipe/evidence.js';
import { drawReferences, type Category } from './dataset.js';
import { PixelAurocAccumulator, auroc, balancedAccuracy, meanStd, rocCurve, type RocCurve } from './metrics.js';
import { type CropRect, imageScore, type AnomalyMap, type ImageScoreRule } from '../judge/anomaly-map.js';

export interface DrawResult {
  readonly seed: number;
  readonly references: readonly string[];
  readonly imageAuroc: number;
  readonly pixelAuroc: number | null;
  readonly accuracy: number;
  readonly threshold: number;
  readonly normalScores: readonly number[];
  readonly calibration: { heldOut: readonly number[]; perturbed: readonly number[]; synthetic: readonly number[] };
  readonly scores: readonly { path: string; type: string; defective: boolean; score: number; fail: boolean }[];
  readonly roc: RocCurve;
  /** Encoder + anomaly map + image score per test image (decoding the file excluded). */
  readonly msPerImage: number;
}

export interface CategoryResult {
  readonly name: string;
  readonly shots: number;
  readonly draws: readonly DrawResult[];
  readonly imageAuroc: { mean: number; std: number };
  readonly pixelAuroc: { mean: number; std: number } | null;
  readonly accuracy: { mean: number; std: number };
}

/** Called for every scored test image (the CLI writes a few overlays from it). */
export type ScoredHook = (e: {
  category: string; draw: number; item: Category['test'][number]; image: Mat; map: AnomalyMap; crop: CropRect;
  boundary: Boundary; score: ImageScoreRule;
}) => Promise<void>;

export type EvalProgress = (event: { category: string; draw: number; done: number; total: number; stage: string }) => void;

export async function evaluateCategory(
  cv: Cv,
  cat: Category,
  engine: Engine,
  opts: { shots: number; draws: number; seed: number; settings: RecipeSettings; progress?: EvalProgress; onScored?: ScoredHook },
): Promise<CategoryResult> {
  const draws: DrawResult[] = [];
  const cache = new TestCache(cv, engine, cat);
  for (let d = 0; d < opts.draws; d++) {
    const seed = opts.seed + d;
    const refs = drawReferences(cat.train, opts.shots, seed);
    const report = (done: number, total: number, stage: string) =>
      opts.progress?.({ category: cat.name, draw: d + 1, done, total, stage });
    const images = await Promise.all(refs.map((r) => readImageFile(r)));
    const settings = { ...opts.settings, input: resolveInputSize(opts.settings.input, images[0], engine.inputSpec.sizeMultiple), seed };
    const cal = await calibrate(cv, images, engine.encoder, engine.taps, engine.openSession, settings, (a, b, s) => report(a, b, s));
    const boundary = deriveBoundary(evidenceOf(cal), opts.settings.falseRejectTarget);
    const scorer = await scorerFor(cal.bank, cal.map, engine.openSession);
    const pixels = cat.hasMasks ? new PixelAurocAccumulator({ min: -0.05, max: 2.05 }, { truthAbove: 25.5 }) : undefined;
    const scores: DrawResult['scores'][number][] = [];
    let inspectMs = 0;
    for (const [i, item] of cat.test.entries()) {
      const cached = await cache.get(i, settings.input);
      const t0 = performance.now();
      const map = await scorer.run(cached.taps);
      const score = imageScore(map, settings.score);
      // The encoding is shared by the draws; its own time counts in every draw's figure.
      inspectMs += cached.encodeMs + performance.now() - t0;
      scores.push({ path: item.path, type: item.type, defective: item.defective, score, fail: decide(score, boundary).fail });
      if (opts.onScored) {
        await opts.onScored({ category: cat.name, draw: d, item, image: await readImageFile(item.path), map, crop: cached.crop, boundary, score: settings.score });
      }
      if (pixels && cached.truth) {
        // Compare at the model's input resolution: map upsampled bilinearly, the mask cropped
        // like the image and resized bilinearly, defect where > 0.1 (SPEC §6 MVTec rule).
        const up = mapAtFrameSize(cv, map.data, map.width, map.height, settings.input.width, settings.input.height);
        pixels.add(floatView(up.getData()), cached.truth);
      }
      if ((i + 1) % 10 === 0 || i + 1 === cat.test.length) report(i + 1, cat.test.length, 'score test images');
    }
    const msPerImage = inspectMs / cat.test.length;
    await scorer.release();
    const labels = scores.map((s) => (s.defective ? 1 : 0) as 0 | 1);
    draws.push({
      seed,
      references: refs,
      imageAuroc: auroc(scores.map((s) => s.score), labels),
      pixelAuroc: pixels ? pixels.auroc() : null,
      accuracy: balancedAccuracy(scores.map((s) => s.fail), labels),
      threshold: boundary.threshold,
      normalScores: cal.normalScores,
      calibration: { heldOut: cal.heldOutScores, perturbed: cal.perturbedScores, synthetic: cal.syntheticScores },
      scores,
      roc: rocCurve(scores.map((s) => s.score), labels),
      msPerImage,
    });
  }
  const pix = draws.map((d) => d.pixelAuroc).filter((x): x is number => x !== null);
  return {
    name: cat.name,
    shots: opts.shots,
    draws,
    imageAuroc: meanStd(draws.map((d) => d.imageAuroc)),
    pixelAuroc: pix.length ? meanStd(pix) : null,
    accuracy: meanStd(draws.map((d) => d.accuracy)),
  };
}

/** A Float32Array over a Buffer of float bytes; copies only when the view would be misaligned. */
function floatView(buf: Buffer): Float32Array {
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new Float32Array(Uint8Array.prototype.slice.call(buf).buffer);
}
