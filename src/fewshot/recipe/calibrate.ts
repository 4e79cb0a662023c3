/**
 * Calibration: k normal reference images → a memory bank and the normal-score sample the
 * judge's boundary comes from. Never trains anything; only encodes and scores.
 *
 * Cost linear in k (issue 11): every reference is encoded once; the bank (and its coreset)
 * is built once over all references, each row remembering its reference; leave-one-out
 * scores come from one scorer session over the full bank with the held-out reference's
 * own rows masked (LooScorer), not from a bank rebuilt per reference.
 */
import type * as ort from 'onnxruntime-node';
import type { Cv, Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Encoder, InputSize, TapFeatures } from '../encoder.js';
import type { TapSpec } from '../bundle-manifest.js';
import { buildBankTapWithSources, type BankTap } from '../memory-bank.js';
import { LooScorer } from '../loo-scorer.js';
import { PatchFeatures, Scorer, scorerGraphFor, type MapSpec } from '../scorer.js';
import { estimatePartMask, injectDefect } from '../../capture/sim/defects.js';
import { createRng } from '../../util/prng.js';
import type { AnomalyMap } from '../../judge/anomaly-map.js';
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
  /** Per tap, the reference index of every bank row. */
  readonly sources: readonly Uint16Array[];
  readonly map: MapSpec;
  /** Scores of held-out / perturbed normal references: the judge's evidence. */
  readonly normalScores: readonly number[];
  /** Held-out references scored unchanged (k ≥ 2). */
  readonly heldOutScores: readonly number[];
  /** Their leave-one-out anomaly maps (patch-level normal evidence), same order. */
  readonly heldOutMaps: readonly AnomalyMap[];
  /** Perturbed copies of references. */
  readonly perturbedScores: readonly number[];
  readonly perturbedMaps: readonly AnomalyMap[];
  /** Synthetic defects pasted onto held-out references. */
  readonly syntheticScores: readonly number[];
}

export type SessionFactory = (model: Uint8Array) => Promise<ort.InferenceSession>;
export type Progress = (done: number, total: number, what: string) => void;

/** Encoded references: per reference, bank rows per tap (all variants) and the identity's features. */
export interface EncodedReferences {
  readonly inputs: Mat[];
  readonly rows: Float32Array[][][];
  readonly features: TapFeatures[][];
  readonly geometry: { height: number; width: number }[];
}

export async function encodeReferences(
  cv: Cv,
  references: readonly Mat[],
  encoder: Encoder,
  taps: readonly TapSpec[],
  openSession: SessionFactory,
  settings: Pick<CalibrationSettings, 'input' | 'bankAugments' | 'pool'>,
  progress: (i: number) => void = () => {},
): Promise<EncodedReferences> {
  const out: EncodedReferences = { inputs: [], rows: [], features: [], geometry: [] };
  let features: PatchFeatures | undefined;
  try {
    for (let i = 0; i < references.length; i++) {
      const { mat } = encoder.toInput(references[i], settings.input);
      out.inputs.push(mat);
      const perTap: Float32Array[][] = taps.map(() => []);
      for (const [v, variant] of bankVariants(cv, mat, settings.bankAugments).entries()) {
        const enc = await encoder.encode(variant, settings.input);
        features ??= await PatchFeatures.open(enc.taps, settings.pool, openSession);
        (await features.run(enc.taps)).forEach((r, ti) => perTap[ti].push(r));
        if (v === 0) out.features.push([...enc.taps]);
        out.geometry.splice(0, out.geometry.length, ...enc.taps.map((t) => ({ height: t.height, width: t.width })));
      }
      out.rows.push(perTap);
      progress(i);
    }
  } finally {
    await features?.release();
  }
  return out;
}

export function mapSpecFor(taps: readonly TapSpec[], settings: Pick<CalibrationSettings, 'input' | 'smoothSigma' | 'pool'>): MapSpec {
  const finest = taps.reduce((a, b) => (b.stride < a.stride ? b : a));
  return {
    width: settings.input.width / finest.stride,
    height: settings.input.height / finest.stride,
    smoothSigma: settings.smoothSigma,
    pool: settings.pool,
  };
}

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
  const enc = await encodeReferences(cv, references, encoder, taps, openSession, settings, (i) => progress(i + 1, total, 'encode references'));
  const map = mapSpecFor(taps, settings);
  const built = taps.map((tap, ti) =>
    buildBankTapWithSources(
      { name: tap.name, output: tap.output, channels: tap.channels, ...enc.geometry[ti] },
      enc.rows.flatMap((perTap) => perTap[ti]),
      enc.rows.flatMap((perTap, i) => perTap[ti].map(() => i)),
      settings.maxBankPerTap,
      settings.seed + ti,
    ),
  );
  const bank = built.map((b) => b.tap);
  const sources = built.map((b) => b.sources);

  // Normal variation: each reference scored against the bank without its own rows
  // (leave-one-out, k ≥ 2), plus perturbed copies of it; with k = 1 only perturbed copies
  // against the full bank are possible.
  const rng = createRng(settings.seed);
  const defectRng = createRng(settings.seed + 1);
  const ev = { heldOutScores: [] as number[], heldOutMaps: [] as AnomalyMap[], perturbedScores: [] as number[], perturbedMaps: [] as AnomalyMap[], syntheticScores: [] as number[] };
  const scorer = await LooScorer.open(bank, sources, map, openSession);
  try {
    for (let i = 0; i < k; i++) {
      const masks = scorer.masksFor(k > 1 ? i : undefined);
      const scoreMap = async (q: Mat) => scorer.run((await encoder.encode(q, settings.input)).taps, masks);
      const input = enc.inputs[i];
      if (k > 1) {
        const m = await scorer.run(enc.features[i], masks);
        ev.heldOutMaps.push(m);
        ev.heldOutScores.push(imageScore(m, settings.score));
      }
      for (let p = 0; p < share(settings.perturbations, k); p++) {
        const m = await scoreMap(perturb(cv, input, rng));
        ev.perturbedMaps.push(m);
        ev.perturbedScores.push(imageScore(m, settings.score));
      }
      const part = estimatePartMask(input);
      for (let p = 0; p < share(settings.syntheticDefects, k); p++) {
        // Small defects (0.2–2 % of the part): the boundary should sit below subtle defects,
        // not below the obvious ones. With k = 1 the base is perturbed too, so the defect is
        // not the only difference from the bank.
        const base = k > 1 ? input : perturb(cv, input, rng);
        const d = injectDefect(base, defectRng, part, { areaRange: SYNTHETIC_AREA });
        ev.syntheticScores.push(imageScore(await scoreMap(d.image), settings.score));
      }
      progress(k + i + 1, total, 'score held-out references');
    }
  } finally {
    await scorer.release();
  }
  return { bank, sources, map, normalScores: [...ev.heldOutScores, ...ev.perturbedScores], ...ev };
}

const SYNTHETIC_AREA: readonly [number, number] = [0.002, 0.02];

/** Reference i's share of a total spread over k references (at least 1 when total > 0). */
function share(total: number, k: number): number {
  return total > 0 ? Math.max(1, Math.ceil(total / k)) : 0;
}

export async function scorerFor(bank: readonly BankTap[], map: MapSpec, openSession: SessionFactory): Promise<Scorer> {
  return new Scorer(await openSession(scorerGraphFor(bank, map)), map, bank);
}
