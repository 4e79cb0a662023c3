/**
 * One more normal reference for a live recipe, without recalibrating the others (issue 11:
 * the web page's "good part — false reject", `eval --feedback`). Its patches are appended to
 * the bank (only those a coreset bank does not already cover), so that part, and parts like
 * it, match from now on. Its score against the recipe before it was added (exactly its
 * leave-one-out score) is recorded in `calibration.added` but does NOT enter the held-out
 * evidence the boundary comes from: a part marked good because it was rejected is, by that
 * selection, one of the highest-scoring good parts, not a sample of them. Measured
 * (`eval --feedback 3`, 1 shot, 5 draws): feeding those scores into the held-out evidence
 * raised the boundary so far that bottle went from 0.980 to 0.878 accuracy and bsdata and
 * kolektorsdd let every defect pass. The boundary is derived again from the calibration
 * evidence (unchanged). Returns a new recipe version; the caller swaps its inspector and saves.
 */
import type { Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Engine } from '../engine.js';
import type { TapFeatures } from '../encoder.js';
import { appendToBankTap } from '../memory-bank.js';
import { PatchFeatures, type Scorer } from '../scorer.js';
import { deriveBoundary } from '../../judge/boundary.js';
import { scorerFor } from './calibrate.js';
import { upperTail } from './evidence.js';
import { recipeVersion, type Recipe } from './recipe.js';
import { referenceFileName, sha256Hex } from './reference-files.js';
import { imageScore } from '../../judge/anomaly-map.js';

/** Bank rows of unknown origin (a recipe saved before rows kept their reference). */
export const UNKNOWN_SOURCE = 0xffff;

export interface NewReference {
  readonly image: Mat;
  /** Encoded bytes to keep in the recipe folder (e.g. the PNG of a live frame). */
  readonly bytes: Uint8Array;
  readonly name: string;
}

export interface AddedReference {
  readonly recipe: Recipe;
  /** The image's score against the recipe before it was added (its held-out score). */
  readonly score: number;
  readonly thresholdBefore: number;
  /** Bank rows added, per tap. */
  readonly rowsAdded: readonly number[];
  readonly ms: number;
}

export async function addReference(
  engine: Engine,
  recipe: Recipe,
  ref: NewReference,
  opts: { scorer?: Scorer } = {},
): Promise<AddedReference> {
  const t0 = performance.now();
  const b = engine.bundle.manifest;
  if (recipe.bundle.id !== b.id || recipe.bundle.version !== b.version) {
    throw new AppError(ErrorCodes.RECIPE_BUNDLE_MISMATCH, `recipe ${recipe.id} was made with bundle ${recipe.bundle.id}@${recipe.bundle.version}, the engine runs ${b.id}@${b.version}: rebuild it`);
  }
  if (recipe.references.length >= UNKNOWN_SOURCE) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${recipe.id}: too many references`);
  const taps = await encodeForRecipe(engine, recipe, ref.image);
  const scorer = opts.scorer ?? (await scorerFor(recipe.bank, recipe.map, engine.openSession));
  let map;
  try {
    map = await scorer.run(taps);
  } finally {
    if (!opts.scorer) await scorer.release();
  }
  const score = imageScore(map, recipe.settings.score);
  const features = await PatchFeatures.open(taps, recipe.map.pool, engine.openSession);
  let rows: Float32Array[];
  try {
    rows = await features.run(taps);
  } finally {
    await features.release();
  }
  const owner = recipe.references.length;
  const grown = recipe.bank.map((t, ti) =>
    appendToBankTap(t, rows[ti], owner, recipe.bankSources?.[ti] ?? new Uint16Array(t.count).fill(UNKNOWN_SOURCE)),
  );
  const bank = grown.map((g) => g.tap);
  const c = recipe.calibration;
  const calibration = { ...c, added: [...(c.added ?? []), { name: ref.name, score, tail: upperTail(map) }] };
  const boundary = deriveBoundary(calibration, recipe.settings.falseRejectTarget);
  const images = recipe.referenceImages ?? recipe.references.map(() => undefined);
  const next: Recipe = {
    ...recipe,
    version: recipeVersion(bank, boundary),
    references: [...recipe.references, { name: ref.name, sha256: sha256Hex(ref.bytes), file: referenceFileName(owner, ref.name) }],
    referenceImages: [...images, ref.bytes],
    boundary,
    calibration,
    bank,
    bankSources: grown.map((g) => g.sources),
  };
  return {
    recipe: next,
    score,
    thresholdBefore: recipe.boundary.threshold,
    rowsAdded: grown.map((g, ti) => g.tap.count - recipe.bank[ti].count),
    ms: performance.now() - t0,
  };
}

/** `image` encoded at the recipe's input size: its features of the recipe's taps, in bank order. */
export async function encodeForRecipe(engine: Engine, recipe: Recipe, image: Mat): Promise<TapFeatures[]> {
  const enc = await engine.encoder.encode(image, recipe.settings.input);
  return recipe.bank.map((t) => {
    const f = enc.taps.find((x) => x.tap.output === t.output);
    if (!f) throw new AppError(ErrorCodes.RECIPE_BUNDLE_MISMATCH, `recipe ${recipe.id} scores tap ${t.name} that the engine does not encode`);
    return f;
  });
}
