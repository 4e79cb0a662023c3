/**
 * Command-line options shared by calibrate, eval and bench: the bundle and the recipe
 * settings (which taps, bank augmentation, bank bound, smoothing, image score rule).
 */
import { defaultRecipeSettings, type RecipeSettings } from '../fewshot/recipe/settings.js';
import type { EngineOptions } from '../fewshot/engine.js';
import { isBankAugment, type BankAugment } from '../fewshot/recipe/augment.js';
import type { ExecutionProviderName } from '../inference/ort-session.js';
import { packageRoot } from '../config/index.js';
import { join } from 'node:path';
import { AppError, ErrorCodes } from '../errors.js';

export const recipeOptions = {
  bundle: { type: 'string' },
  taps: { type: 'string' },
  size: { type: 'string' },
  augment: { type: 'string' },
  'max-bank': { type: 'string' },
  smooth: { type: 'string' },
  pool: { type: 'string' },
  score: { type: 'string' },
  perturbations: { type: 'string' },
  synthetic: { type: 'string' },
  'false-reject': { type: 'string' },
  providers: { type: 'string' },
  threads: { type: 'string' },
} as const;

type Values = { [K in keyof typeof recipeOptions]?: string | undefined };

export function recipeSettingsFromArgs(v: Values): { engineOptions: EngineOptions; settings: RecipeSettings } {
  const d = defaultRecipeSettings();
  const size = v.size === undefined ? d.input : v.size === 'auto' || v.size === 'native' ? v.size : parseSize(v.size);
  const score = v.score
    ? v.score === 'max' || v.score === 'peak-over-median'
      ? ({ kind: v.score } as const)
      : ({ kind: 'top-mean', fraction: Number(v.score.replace(/^top-mean:?/, '')) || 0.01 } as const)
    : d.score;
  const settings: RecipeSettings = {
    taps: v.taps ? v.taps.split(',') : d.taps,
    input: size,
    bankAugments: v.augment !== undefined ? (v.augment === 'none' ? [] : parseAugments(v.augment)) : d.bankAugments,
    maxBankPerTap: v['max-bank'] ? Number(v['max-bank']) : d.maxBankPerTap,
    smoothSigma: v.smooth !== undefined ? Number(v.smooth) : d.smoothSigma,
    pool: v.pool !== undefined ? Number(v.pool) : d.pool,
    score,
    perturbations: v.perturbations !== undefined ? Number(v.perturbations) : d.perturbations,
    syntheticDefects: v.synthetic !== undefined ? Number(v.synthetic) : d.syntheticDefects,
    falseRejectTarget: v['false-reject'] !== undefined ? Number(v['false-reject']) : d.falseRejectTarget,
  };
  const engineOptions: EngineOptions = {
    bundleDir: v.bundle ?? join(packageRoot(), 'models', 'bundles', 'mobilenetv2-nsfwjs'),
    taps: settings.taps,
    executionProviders: (v.providers?.split(',') as ExecutionProviderName[] | undefined) ?? ['tensorrt', 'cuda', 'cpu'],
    intraOpThreads: v.threads ? Number(v.threads) : 0,
  };
  return { engineOptions, settings };
}

function parseAugments(text: string): BankAugment[] {
  const list = text.split(',');
  const bad = list.filter((a) => !isBankAugment(a));
  if (bad.length) throw new AppError(ErrorCodes.USAGE, `--augment ${bad.join(',')}: expected hflip, vflip or rot<degrees> (e.g. rot90, rot-15)`);
  return list as BankAugment[];
}

function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new AppError(ErrorCodes.USAGE, `--size ${text}: expected WIDTHxHEIGHT (e.g. 448x192) or auto`);
  return { width: Number(m[1]), height: Number(m[2]) };
}
