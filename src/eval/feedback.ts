/**
 * `eval --feedback N`: operator feedback on the line (issue 11). Protocol, per draw d
 * (seed s = base seed + d):
 *   1. k references drawn from train/good with seed s (as `eval`); recipe made as `calibrate`.
 *   2. The test stream: every test image once, in a seeded random order (seed s + 1000).
 *   3. Walk the stream with the live recipe; the first N good images it rejects are marked
 *      good through addReference (the web page's operation), each giving a new recipe
 *      version that judges the rest of the walk. A walk may mark fewer than N (the stream
 *      has fewer false rejects).
 *   4. Remaining images R = the test set minus the marked ones. Reported on R: the first
 *      recipe's and the final recipe's accuracy, image AUROC, false rejects and misses; and
 *      `rebuilt`: the recipe calibrated afresh from all its references (the k drawn and the
 *      marked ones), as `calibrate --rebuild` would make it; and `rebuilt + line`: that recipe
 *      with its boundary derived from its references' leave-one-out scores AND the passes of
 *      the walk (normal parts from the line, mostly), scored against its bank.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Cv } from '../capture/opencv.js';
import type { Engine } from '../fewshot/engine.js';
import { addReference } from '../fewshot/recipe/add-reference.js';
import { scorerFor } from '../fewshot/recipe/calibrate.js';
import { makeRecipe, readReferences } from '../fewshot/recipe/make-recipe.js';
import type { RecipeSettings } from '../fewshot/recipe/settings.js';
import { drawReferences, type Category } from './dataset.js';
import { encodeTestImages, scoreAll, shuffled, subsetMetrics, type SubsetMetrics } from './test-stream.js';
import { imageScore } from '../judge/anomaly-map.js';
import { deriveBoundary } from '../judge/boundary.js';
import type { AnomalyMap } from '../judge/anomaly-map.js';
import { upperTail } from '../fewshot/recipe/evidence.js';

export interface FeedbackDraw {
  readonly seed: number;
  readonly marked: readonly string[];
  readonly before: SubsetMetrics;
  readonly after: SubsetMetrics;
  readonly rebuilt: SubsetMetrics;
  /** The rebuilt recipe, its boundary derived with the walked passes as held-out evidence too. */
  readonly rebuiltLine: SubsetMetrics;
  readonly thresholds: { readonly before: number; readonly after: number; readonly rebuilt: number };
  /** addReference + opening the new scorer, per marked image. */
  readonly addMs: readonly number[];
}

export async function feedbackExperiment(
  cv: Cv,
  cat: Category,
  engine: Engine,
  opts: { shots: number; draws: number; seed: number; settings: RecipeSettings; feedback: number; progress?: (draw: number, stage: string) => void },
): Promise<FeedbackDraw[]> {
  const out: FeedbackDraw[] = [];
  for (let d = 0; d < opts.draws; d++) {
    const seed = opts.seed + d;
    opts.progress?.(d + 1, 'calibrate');
    const drawn = drawReferences(cat.train, opts.shots, seed);
    const first = await makeRecipe(cv, 'feedback', engine, await readReferences(drawn), opts.settings, seed);
    const tests = await encodeTestImages(engine, cat, first.settings.input);
    const index = new Map(tests.map((t, i) => [t.item.path, i]));
    const scorer0 = await scorerFor(first.bank, first.map, engine.openSession);
    const before = await scoreAll(scorer0, tests, first.settings.score);
    opts.progress?.(d + 1, 'walk the stream');
    let recipe = first;
    let scorer = scorer0;
    const marked = new Set<number>();
    const addMs: number[] = [];
    const walkedPasses: number[] = [];
    for (const t of shuffled(tests, seed + 1000)) {
      if (marked.size >= opts.feedback) break;
      const score = imageScore(await scorer.run(t.taps), recipe.settings.score);
      if (score <= recipe.boundary.threshold) walkedPasses.push(index.get(t.item.path) as number);
      if (t.item.defective || score <= recipe.boundary.threshold) continue;
      const t0 = performance.now();
      const added = await addReference(engine, recipe, { image: t.image, bytes: await readFile(t.item.path), name: basename(t.item.path) }, { scorer });
      const next = await scorerFor(added.recipe.bank, added.recipe.map, engine.openSession);
      addMs.push(performance.now() - t0);
      if (scorer !== scorer0) await scorer.release();
      scorer = next;
      recipe = added.recipe;
      marked.add(index.get(t.item.path) as number);
    }
    const after = scorer === scorer0 ? before : await scoreAll(scorer, tests, recipe.settings.score);
    if (scorer !== scorer0) await scorer.release();
    const rest = (i: number) => !marked.has(i);
    opts.progress?.(d + 1, 'rebuild');
    const markedPaths = [...marked].map((i) => tests[i].item.path);
    const rebuiltRecipe = marked.size === 0 ? first : await makeRecipe(cv, 'feedback', engine, await readReferences([...drawn, ...markedPaths]), opts.settings, seed);
    const rebuiltScorer = marked.size === 0 ? undefined : await scorerFor(rebuiltRecipe.bank, rebuiltRecipe.map, engine.openSession);
    const rebuiltScores = rebuiltScorer ? await scoreAll(rebuiltScorer, tests, rebuiltRecipe.settings.score) : before;
    // `rebuilt + line`: the rebuilt recipe with the walked passes as more held-out evidence,
    // scored against its bank (they are not in it) — normal parts from the line, not selected
    // for scoring high. Not what a review does (the daemon would need the passes' frames).
    const lineScorer = rebuiltScorer ?? scorer0;
    const passMaps: AnomalyMap[] = [];
    for (const i of walkedPasses) passMaps.push(await lineScorer.run(tests[i].taps));
    const ev = rebuiltRecipe.calibration;
    const lineBoundary = deriveBoundary(
      {
        ...ev,
        heldOut: [...ev.heldOut, ...passMaps.map((m) => imageScore(m, rebuiltRecipe.settings.score))],
        heldOutTails: [...(ev.heldOutTails ?? []), ...passMaps.map(upperTail)],
      },
      rebuiltRecipe.settings.falseRejectTarget,
    );
    await rebuiltScorer?.release();
    await scorer0.release();
    out.push({
      seed,
      marked: markedPaths,
      before: subsetMetrics(before, tests, first.boundary.threshold, rest),
      after: subsetMetrics(after, tests, recipe.boundary.threshold, rest),
      rebuilt: subsetMetrics(rebuiltScores, tests, rebuiltRecipe.boundary.threshold, rest),
      rebuiltLine: subsetMetrics(rebuiltScores, tests, lineBoundary.threshold, rest),
      thresholds: { before: first.boundary.threshold, after: recipe.boundary.threshold, rebuilt: rebuiltRecipe.boundary.threshold },
      addMs,
    });
  }
  return out;
}
