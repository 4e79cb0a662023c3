/**
 * `eval --bootstrap N --contamination F`: a recipe from N unlabelled frames (issue 11).
 * Protocol, per draw d (seed s = base seed + d):
 *   1. nd = round(F·N) defective images drawn from the test set's defects (seed s + 7919),
 *      N − nd good images drawn from train/good (seed s); the pool is shuffled (seed s + 1)
 *      and its labels are not used.
 *   2. bootstrap: selectNormalFrames (mutual scoring, outliers dropped) → recipe from the kept
 *      frames, calibrated as `calibrate` does;
 *      naive: recipe from all N frames (what happens without the selection);
 *      clean: recipe from the N − nd good frames only (the labelled oracle).
 *   3. All three judged on the rest of the test set (every test image not in the pool).
 */
import type { Cv } from '../capture/opencv.js';
import { readImageFile } from '../capture/image-io.js';
import type { Engine } from '../fewshot/engine.js';
import { selectNormalFrames } from '../fewshot/recipe/bootstrap.js';
import { scorerFor } from '../fewshot/recipe/calibrate.js';
import { makeRecipe, readReferences } from '../fewshot/recipe/make-recipe.js';
import type { Recipe } from '../fewshot/recipe/recipe.js';
import type { RecipeSettings } from '../fewshot/recipe/settings.js';
import { drawReferences, type Category } from './dataset.js';
import { encodeTestImages, scoreAll, shuffled, subsetMetrics, type EncodedTest, type SubsetMetrics } from './test-stream.js';

export interface BootstrapDraw {
  readonly seed: number;
  readonly pool: readonly { path: string; defective: boolean }[];
  /** Pool entries the selection dropped, and how many of them were defective. */
  readonly dropped: readonly string[];
  readonly droppedDefective: number;
  readonly bootstrap: SubsetMetrics;
  readonly naive: SubsetMetrics;
  readonly clean: SubsetMetrics;
}

export async function bootstrapExperiment(
  cv: Cv,
  cat: Category,
  engine: Engine,
  opts: { frames: number; contamination: number; draws: number; seed: number; settings: RecipeSettings; progress?: (draw: number, stage: string) => void },
): Promise<BootstrapDraw[]> {
  const defects = cat.test.filter((t) => t.defective).map((t) => t.path);
  const nd = Math.round(opts.contamination * opts.frames);
  const out: BootstrapDraw[] = [];
  for (let d = 0; d < opts.draws; d++) {
    const seed = opts.seed + d;
    const bad = drawReferences(defects, nd, seed + 7919);
    const good = drawReferences(cat.train, opts.frames - nd, seed);
    const pool = shuffled([...good.map((path) => ({ path, defective: false })), ...bad.map((path) => ({ path, defective: true }))], seed + 1);
    const frames = await Promise.all(pool.map((p) => readImageFile(p.path)));
    opts.progress?.(d + 1, 'mutual scoring');
    const sel = await selectNormalFrames(cv, frames, engine, opts.settings, seed);
    const recipeOf = async (paths: string[]) => makeRecipe(cv, 'bootstrap', engine, await readReferences(paths), opts.settings, seed);
    opts.progress?.(d + 1, 'calibrate');
    const boot = await recipeOf(sel.keep.map((i) => pool[i].path));
    const naive = await recipeOf(pool.map((p) => p.path));
    const clean = await recipeOf(good);
    const tests = await encodeTestImages(engine, cat, boot.settings.input);
    const rest = (i: number) => !bad.includes(tests[i].item.path);
    opts.progress?.(d + 1, 'score test images');
    const judge = async (r: Recipe): Promise<SubsetMetrics> => metrics(r, tests, rest, engine);
    out.push({
      seed,
      pool,
      dropped: sel.dropped.map((i) => pool[i].path),
      droppedDefective: sel.dropped.filter((i) => pool[i].defective).length,
      bootstrap: await judge(boot),
      naive: await judge(naive),
      clean: await judge(clean),
    });
  }
  return out;
}

async function metrics(r: Recipe, tests: readonly EncodedTest[], include: (i: number) => boolean, engine: Engine): Promise<SubsetMetrics> {
  const scorer = await scorerFor(r.bank, r.map, engine.openSession);
  try {
    return subsetMetrics(await scoreAll(scorer, tests, r.settings.score), tests, r.boundary.threshold, include);
  } finally {
    await scorer.release();
  }
}
