/**
 * A recipe from unlabelled frames of the running line (issue 11, "start with no labelled
 * references"): most frames are good, a few are not. Mutual scoring, as MuSc does zero-shot
 * (Li et al., ICLR 2024): each frame is scored against the patches of all the other frames
 * — one masked GEMM per frame (LooScorer), no labels. A defect has no counterpart in the
 * other frames, so defective frames stand out. Frames whose score is an outlier are dropped
 * and the others re-scored without them (a defect matched by a similar defect in another
 * frame surfaces once that frame is gone), until nothing more is dropped. The rest become the
 * recipe's references.
 *
 * Outlier: robust z = (s − median) / (1.4826·MAD) > 3 — the conventional cut for a normal
 * sample (1.4826·MAD estimates σ), not a value fitted to any data set.
 */
import type { Cv, Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Engine } from '../engine.js';
import { buildBankTapWithSources } from '../memory-bank.js';
import { LooScorer } from '../loo-scorer.js';
import { encodeReferences, mapSpecFor } from './calibrate.js';
import { resolveInputSize, type RecipeSettings } from './settings.js';
import type { ReferenceSet } from './make-recipe.js';
import { imageScore } from '../../judge/anomaly-map.js';

export const OUTLIER_Z = 3;
const MAX_ROUNDS = 5;

export interface FrameSelection {
  /** Indices of the frames kept as references. */
  readonly keep: readonly number[];
  readonly dropped: readonly number[];
  /** Each frame's last mutual score (against all kept frames but itself). */
  readonly scores: readonly number[];
  readonly rounds: number;
}

export async function selectNormalFrames(cv: Cv, frames: readonly Mat[], engine: Engine, settings: RecipeSettings, seed: number): Promise<FrameSelection> {
  if (frames.length < 3) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `bootstrapping needs at least 3 frames (got ${frames.length})`);
  const input = resolveInputSize(settings.input, frames[0], engine.inputSpec.sizeMultiple);
  const st = { input, bankAugments: [], pool: settings.pool, smoothSigma: settings.smoothSigma };
  const enc = await encodeReferences(cv, frames, engine.encoder, engine.taps, engine.openSession, st);
  const built = engine.taps.map((tap, ti) =>
    buildBankTapWithSources(
      { name: tap.name, output: tap.output, channels: tap.channels, ...enc.geometry[ti] },
      enc.rows.map((r) => r[ti][0]),
      enc.rows.map((_, i) => i),
      settings.maxBankPerTap,
      seed + ti,
    ),
  );
  const scorer = await LooScorer.open(built.map((b) => b.tap), built.map((b) => b.sources), mapSpecFor(engine.taps, st), engine.openSession);
  const dropped = new Set<number>();
  const scores = new Array<number>(frames.length).fill(Number.NaN);
  let rounds = 0;
  try {
    while (rounds < MAX_ROUNDS) {
      rounds++;
      const kept = frames.map((_, i) => i).filter((i) => !dropped.has(i));
      for (let i = 0; i < frames.length; i++) {
        scores[i] = imageScore(await scorer.run(enc.features[i], scorer.masksFor([i, ...dropped])), settings.score);
      }
      const ks = kept.map((i) => scores[i]);
      const med = median(ks);
      const sigma = 1.4826 * median(ks.map((s) => Math.abs(s - med)));
      const out = kept.filter((i) => sigma > 0 && (scores[i] - med) / sigma > OUTLIER_Z);
      if (out.length === 0 || kept.length - out.length < 2) break;
      for (const i of out) dropped.add(i);
    }
  } finally {
    await scorer.release();
  }
  return { keep: frames.map((_, i) => i).filter((i) => !dropped.has(i)), dropped: [...dropped].sort((a, b) => a - b), scores, rounds };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The part of a reference set that `selection` kept; the dropped frames' Mats are released. */
export function keptReferences(refs: ReferenceSet, selection: FrameSelection): ReferenceSet {
  for (const i of selection.dropped) refs.images[i].release();
  const pick = <T>(xs: readonly T[]): T[] => selection.keep.map((i) => xs[i]);
  return {
    images: pick(refs.images),
    references: pick(refs.references),
    ...(refs.bytes ? { bytes: pick(refs.bytes) } : {}),
    skipped: refs.skipped,
  };
}
