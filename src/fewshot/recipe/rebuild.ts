/**
 * Rebuild a recipe from the reference images it keeps (reference-files.ts): same references,
 * same settings and seed, calibrated again on whatever bundle the engine runs — a new
 * bundle, other taps, or a bank grown by many added references brought back under its cap.
 */
import { join } from 'node:path';
import type { Cv } from '../../capture/opencv.js';
import type { Engine } from '../engine.js';
import type { Progress } from './calibrate.js';
import { makeRecipe } from './make-recipe.js';
import type { Recipe } from './recipe.js';
import { readReferenceImages } from './reference-files.js';
import type { RecipeSettings } from './settings.js';

export async function rebuildRecipe(cv: Cv, engine: Engine, recipesDir: string, recipe: Recipe, progress?: Progress): Promise<Recipe> {
  const { images, bytes } = await readReferenceImages(join(recipesDir, recipe.id), recipe.references);
  const { seed, ...rest } = recipe.settings;
  // The engine's taps: another bundle has other layers; the same bundle keeps the recipe's.
  const taps = engine.taps.map((t) => t.name);
  let input: RecipeSettings['input'] = rest.input;
  try {
    engine.encoder.validateSize(rest.input);
  } catch {
    input = 'auto';
  }
  const settings: RecipeSettings = { ...rest, taps, input };
  const refs = { images, bytes, references: recipe.references.map((r) => ({ name: r.name, sha256: r.sha256 })), skipped: [] };
  return makeRecipe(cv, recipe.id, engine, refs, settings, seed, progress);
}
