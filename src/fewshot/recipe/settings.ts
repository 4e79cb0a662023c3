/**
 * Recipe settings: how a recipe turns references into a bank and a boundary. The defaults
 * are the measured best on the shared evaluation data (see README "Measured").
 */
import type { InputSize } from '../encoder.js';
import type { CalibrationSettings } from './calibrate.js';
import { DEFAULT_FALSE_REJECT } from '../../judge/boundary.js';

export interface RecipeSettings extends Omit<CalibrationSettings, 'seed' | 'input'> {
  /** Bundle tap names the recipe scores. */
  readonly taps: readonly string[];
  /**
   * Model input size; 'auto': chosen from the references' aspect ratio (autoInputSize);
   * 'native': the references' own resolution within a pixel budget (nativeInputSize).
   */
  readonly input: InputSize | 'auto' | 'native';
  /** The share of good parts the boundary may reject (judge/boundary.ts); absent: the default. */
  readonly falseRejectTarget?: number;
}

export function defaultRecipeSettings(): RecipeSettings {
  return {
    // Strides 8/16/32. The stride-4 tap (block_2_add) cost most of the scoring time and
    // lowered image AUROC on both shared datasets (README "Measured"). block_12/15 come from
    // the part nsfwjs fine-tuned; taps only from the ImageNet part (block_5 + block_8/9/10,
    // expansion layers) were measured on all four shared sets (issue 11): better on
    // kolektorsdd and mpdd, worse on mvtec-bottle 1-shot (0.986 vs 0.997) — no set of taps
    // was better everywhere, so these stay.
    taps: ['block_5_add', 'block_12_add', 'block_15_add'],
    input: 'auto',
    // hflip,vflip,rot180 raised or kept image AUROC on all four shared sets (README
    // "Measured") but costs 2.5–3× the scoring time and makes a mirror-image part look
    // normal: an option per part, not the default. Rotations by ±15/30° lowered bsdata.
    bankAugments: [],
    maxBankPerTap: 8192,
    smoothSigma: 0,
    pool: 1,
    score: { kind: 'max' },
    perturbations: 16,
    syntheticDefects: 16,
    falseRejectTarget: DEFAULT_FALSE_REJECT,
  };
}

/**
 * 'auto' input size: near-square images (aspect < 1.25) are squashed to 224×224 like the
 * seed (SPEC §1); wider ones keep their aspect with the shorter side at 192 and the longer
 * side rounded to the bundle's size multiple, at most 448 — on the wide BSData images
 * (1101×448) 448×192 beat the 224×224 squash on image and pixel AUROC (README "Measured").
 */
export function autoInputSize(width: number, height: number, multiple = 32): InputSize {
  const aspect = Math.max(width, height) / Math.min(width, height);
  if (aspect < 1.25) return { width: 224, height: 224 };
  const long = Math.min(448, Math.max(multiple, Math.round((192 * aspect) / multiple) * multiple));
  return width >= height ? { width: long, height: 192 } : { width: 192, height: long };
}

/**
 * 'native' input size: the image's own resolution (thin defects stay a few pixels wide, as
 * anomalib users ask for long parts), rounded to the size multiple, scaled down only to fit
 * NATIVE_MAX_PIXELS — a cost bound (512² pixels, ≈ 5× the encoder work of 224²), not a
 * value tuned on any data set.
 */
export const NATIVE_MAX_PIXELS = 512 * 512;

export function nativeInputSize(width: number, height: number, multiple = 32, maxPixels = NATIVE_MAX_PIXELS): InputSize {
  const scale = Math.min(1, Math.sqrt(maxPixels / (width * height)));
  const fit = (x: number) => Math.max(multiple, Math.floor((x * scale) / multiple) * multiple);
  return { width: fit(width), height: fit(height) };
}

export function resolveInputSize(input: InputSize | 'auto' | 'native', reference: { cols: number; rows: number }, multiple = 32): InputSize {
  if (input === 'auto') return autoInputSize(reference.cols, reference.rows, multiple);
  if (input === 'native') return nativeInputSize(reference.cols, reference.rows, multiple);
  return input;
}
