/**
 * Calibration: k normal reference images → a memory bank and the normal-score sample the
 * judge's boundary comes from. Never trains anything; only encodes and scores.
 */
import type * as ort from 'onnxruntime-node';
import type { Cv, Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Encoder, InputSize } from '../encoder.js';
import type { TapSpec } from '../bundle-manifest.js';
import { buildBankTap, type BankTap } from '../memory-bank.js';
import { PatchFeatures, Scorer, scorerGraphFor, type MapSpec } from '../scorer.js';
import { estimatePartMask, injectDefect } from '../../capture/sim/defects.js';
import { createRng } from '../../util/prng.js';
import { bankVariants, perturb, type BankAugment } from './augment.js';
import { imageScore, type ImageScoreRule } from '../../judge/anomaly-map.js';

export interface CalibrationSettings {
  readonly input: InputSize;
  readonly bankAugments: readonly BankAugment[];
  readonly maxBankPerTap: number;
  readonly smoothSigma: number;
  /** Patch neighbourhood aggregation window (1 = off, 3 = PatchCore's 3×3). */
  readonly pool: number;
  readonly score: ImageScoreRule;
  /** Perturbed copies scored in all (spread over the references) to sample normal variation. */
  readonly perturbations: number;
  /** Synthetic defects scored in all (spread over the references). */
  readonly syntheticDefects: number;
  readonly seed: number;
}

export interface CalibrationResult {
  readonly bank: readonly BankTap[];
  readonly map: MapSpec;
  /** Scores of held-out / perturbed normal references: the judge's evidence. */
  readonly normalScores: readonly number[];
  /** Held-out references scored unchanged (k ≥ 2). */
  readonly heldOutScores: readonly number[];
  /** Perturbed copies of references. */
  readonly perturbedScores: readonly number[];
  /** Synthetic defects pasted onto held-out references. */
  readonly syntheticScores: readonly number[];
}

export type SessionFactory = (model: Uint8Array) => Promise<ort.InferenceSession>;
export type Progress = (done: number, total: number, what: string) => void;

export async function calibrate(
  cv: Cv,
  references: readonly Mat[],
  encoder: Encoder,
  taps: readonly TapSpec[],
  openSession: SessionFactory,
  settings: CalibrationSettings,
  progress: Progress = () => {},
): Promise<CalibrationResult> {
  if (references.length === 0) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, 'calibration needs at least one normal reference image');
  encoder.validateSize(settings.input);
  const k = references.length;
  const total = k * 2;
  // rows[i][t]: all bank variants of reference i for tap t.
  const rows: Float32Array[][][] = [];
  const inputs: Mat[] = [];
  let geometry: { height: number; width: number }[] = [];
  let features: PatchFeatures | undefined;
  try {
    for (let i = 0; i < k; i++) {
      const { mat } = encoder.toInput(references[i], settings.input);
      inputs.push(mat);
      const perTap: Float32Array[][] = taps.map(() => []);
      for (const variant of bankVariants(cv, mat, settings.bankAugments)) {
        const enc = await encoder.encode(variant, settings.input);
        features ??= await PatchFeatures.open(enc.taps, settings.pool, openSession);
        (await features.run(enc.taps)).forEach((r, ti) => perTap[ti].push(r));
        geometry = enc.taps.map((t) => ({ height: t.height, width: t.width }));
      }
      rows.push(perTap);
      progress(i + 1, total, 'encode references');
    }
  } finally {
    await features?.release();
  }
  const finest = taps.reduce((a, b) => (b.stride < a.stride ? b : a));
  const map: MapSpec = {
    width: settings.input.width / finest.stride,
    height: settings.input.height / finest.stride,
    smoothSigma: settings.smoothSigma,
    pool: settings.pool,
  };
  const bankFrom = (refs: number[]) =>
    taps.map((tap, ti) =>
      buildBankTap(
        { name: tap.name, output: tap.output, channels: tap.channels, ...geometry[ti] },
        refs.flatMap((i) => rows[i][ti]),
        settings.maxBankPerTap,
        settings.seed + ti,
      ),
    );
  const bank = bankFrom(inputs.map((_, i) => i));

  // Normal variation: each reference scored against a bank that does not contain it
  // (leave-one-out, k ≥ 2), plus perturbed copies of it; with k = 1 only perturbed copies
  // against the full bank are possible.
  const rng = createRng(settings.seed);
  const heldOutScores: number[] = [];
  const perturbedScores: number[] = [];
  const syntheticScores: number[] = [];
  const defectRng = createRng(settings.seed + 1);
  const fullScorer = k === 1 ? await scorerFor(bank, map, openSession) : undefined;
  for (let i = 0; i < k; i++) {
    const scorer = fullScorer ?? (await scorerFor(bankFrom(inputs.map((_, j) => j).filter((j) => j !== i)), map, openSession));
    const score = async (q: Mat) => imageScore(await scorer.run((await encoder.encode(q, settings.input)).taps), settings.score);
    if (k > 1) heldOutScores.push(await score(inputs[i]));
    for (let p = 0; p < share(settings.perturbations, k); p++) perturbedScores.push(await score(perturb(cv, inputs[i], rng)));
    const part = estimatePartMask(inputs[i]);
    for (let p = 0; p < share(settings.syntheticDefects, k); p++) {
      // Small defects (0.2–2 % of the part): the boundary should sit below subtle defects,
      // not below the obvious ones. With k = 1 the base is perturbed too, so the defect is
      // not the only difference from the bank.
      const base = k > 1 ? inputs[i] : perturb(cv, inputs[i], rng);
      const d = injectDefect(base, defectRng, part, { areaRange: SYNTHETIC_AREA });
      syntheticScores.push(await score(d.image));
    }
    if (scorer !== fullScorer) await scorer.release();
    progress(k + i + 1, total, 'score held-out references');
  }
  await fullScorer?.release();
  return { bank, map, normalScores: [...heldOutScores, ...perturbedScores], heldOutScores, perturbedScores, syntheticScores };
}

const SYNTHETIC_AREA: readonly [number, number] = [0.002, 0.02];

/** Reference i's share of a total spread over k references (at least 1 when total > 0). */
function share(total: number, k: number): number {
  return total > 0 ? Math.max(1, Math.ceil(total / k)) : 0;
}

export async function scorerFor(bank: readonly BankTap[], map: MapSpec, openSession: SessionFactory): Promise<Scorer> {
  return new Scorer(await openSession(scorerGraphFor(bank, map)), map, bank);
}
