/**
 * Recipe settings: how a recipe turns references into a bank and a boundary. The defaults
 * are the measured best on the shared evaluation data (see README "Measured").
 */
import type { CalibrationSettings } from './calibrate.js';

export interface RecipeSettings extends Omit<CalibrationSettings, 'seed'> {
  /** Bundle tap names the recipe scores. */
  readonly taps: readonly string[];
}

export function defaultRecipeSettings(): RecipeSettings {
  return {
    taps: ['block_2_add', 'block_5_add', 'block_12_add', 'block_15_add'],
    input: { width: 224, height: 224 },
    bankAugments: [],
    maxBankPerTap: 8192,
    smoothSigma: 0,
    pool: 1,
    score: { kind: 'max' },
    perturbations: 4,
  };
}
