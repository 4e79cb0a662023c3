/**
 * Helpers for the line experiments (feedback, bootstrap): a category's test images encoded
 * once and scored by several recipes, metrics on a subset, and seeded orders.
 */
import type { Mat } from '../capture/opencv.js';
import { readImageFile } from '../capture/image-io.js';
import type { Engine } from '../fewshot/engine.js';
import type { InputSize, TapFeatures } from '../fewshot/encoder.js';
import { type Scorer } from '../fewshot/scorer.js';
import { drawReferences, type Category } from './dataset.js';
import { auroc, balancedAccuracy } from './metrics.js';
import { imageScore, type ImageScoreRule } from '../judge/anomaly-map.js';

export interface EncodedTest {
  readonly item: Category['test'][number];
  readonly image: Mat;
  readonly taps: readonly TapFeatures[];
}

export async function encodeTestImages(engine: Engine, cat: Category, input: InputSize): Promise<EncodedTest[]> {
  const out: EncodedTest[] = [];
  for (const item of cat.test) {
    const image = await readImageFile(item.path);
    out.push({ item, image, taps: (await engine.encoder.encode(image, input)).taps });
  }
  return out;
}

export async function scoreAll(scorer: Scorer, tests: readonly EncodedTest[], rule: ImageScoreRule): Promise<number[]> {
  const out: number[] = [];
  for (const t of tests) out.push(imageScore(await scorer.run(t.taps), rule));
  return out;
}

export interface SubsetMetrics {
  readonly images: number;
  readonly accuracy: number;
  readonly imageAuroc: number;
  readonly falseRejects: number;
  readonly misses: number;
}

/** Metrics over the images whose index passes `include`, decided at `threshold`. */
export function subsetMetrics(scores: readonly number[], tests: readonly EncodedTest[], threshold: number, include: (i: number) => boolean): SubsetMetrics {
  const idx = scores.map((_, i) => i).filter(include);
  const labels = idx.map((i) => (tests[i].item.defective ? 1 : 0) as 0 | 1);
  const s = idx.map((i) => scores[i]);
  const fail = s.map((x) => x > threshold);
  return {
    images: idx.length,
    accuracy: balancedAccuracy(fail, labels),
    imageAuroc: auroc(s, labels),
    falseRejects: fail.filter((f, j) => f && labels[j] === 0).length,
    misses: fail.filter((f, j) => !f && labels[j] === 1).length,
  };
}

/** A seeded permutation of `items` (the same Fisher–Yates as the reference draws). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const idx = items.map((_, i) => i);
  return drawReferences(idx.map(String), idx.length, seed).map((i) => items[Number(i)]);
}
