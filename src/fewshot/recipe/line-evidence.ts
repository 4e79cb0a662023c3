/**
 * Normal evidence from the line (issue 11, "learning from the line"): frames the line judged
 * good — mostly good parts, not selected for scoring high — scored against the recipe's bank
 * (they are not in it, so these are genuine held-out scores) and added to the held-out
 * evidence the boundary comes from (judge/boundary.ts: Gumbel location = the median, scale =
 * the median tail). A one-reference recipe has no held-out evidence of its own and a
 * reference marked good *because* it was rejected is an unusual one; the line's passes are
 * neither. Measured (`eval --feedback 3`, 1 shot, 10 draws, the "rebuilt+line" row): mpdd
 * 0.504 → 0.953, bsdata 0.766 → 0.827, kolektorsdd 0.573 → 0.607, bottle 0.985 → 0.979.
 */
import type { Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Engine } from '../engine.js';
import { deriveBoundary } from '../../judge/boundary.js';
import { imageScore } from '../../judge/anomaly-map.js';
import { scorerFor } from './calibrate.js';
import { encodeForRecipe } from './add-reference.js';
import { upperTail } from './evidence.js';
import { recipeVersion, type Recipe } from './recipe.js';

export interface LineEvidence {
  readonly recipe: Recipe;
  /** Each frame's score against the recipe's bank. */
  readonly scores: readonly number[];
}

export async function withLineEvidence(engine: Engine, recipe: Recipe, frames: readonly Mat[]): Promise<LineEvidence> {
  if (frames.length === 0) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `recipe ${recipe.id}: no line frames to learn the boundary from`);
  const scorer = await scorerFor(recipe.bank, recipe.map, engine.openSession);
  const scores: number[] = [];
  const tails: number[][] = [];
  try {
    for (const frame of frames) {
      const map = await scorer.run(await encodeForRecipe(engine, recipe, frame));
      scores.push(imageScore(map, recipe.settings.score));
      tails.push(upperTail(map));
    }
  } finally {
    await scorer.release();
  }
  const c = recipe.calibration;
  const calibration = { ...c, heldOut: [...c.heldOut, ...scores], heldOutTails: [...(c.heldOutTails ?? []), ...tails], line: (c.line ?? 0) + frames.length };
  const boundary = deriveBoundary(calibration, recipe.settings.falseRejectTarget);
  return { recipe: { ...recipe, calibration, boundary, version: recipeVersion(recipe.bank, boundary) }, scores };
}
