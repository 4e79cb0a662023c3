/**
 * calibrate → recipe: reads the reference images (skipping unreadable ones, counted and
 * reported, never fatal unless none is left), calibrates, derives the boundary.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeImage } from '../../capture/image-io.js';
import { checkModelScale, DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../../capture/image-limits.js';
import type { Cv, Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes, isAppError } from '../../errors.js';
import type { Engine } from '../engine.js';
import { cropFor } from '../preprocess.js';
import { deriveBoundary } from '../../judge/boundary.js';
import { calibrate, type Progress } from './calibrate.js';
import { recipeVersion, type Recipe } from './recipe.js';
import { referenceFileName, sha256Hex } from './reference-files.js';
import { evidenceOf } from './evidence.js';
import { resolveInputSize, type RecipeSettings } from './settings.js';

export interface ReferenceSet {
  readonly images: Mat[];
  readonly references: { name: string; sha256: string }[];
  /** The encoded bytes as read (kept in the recipe folder); PNG-encoded when absent. */
  readonly bytes?: Uint8Array[];
  readonly skipped: { path: string; code: string; message: string }[];
}

export async function readReferences(paths: readonly string[], limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ReferenceSet> {
  const out = { images: [] as Mat[], references: [] as ReferenceSet['references'], bytes: [] as Uint8Array[], skipped: [] as ReferenceSet['skipped'] };
  for (const path of paths) {
    try {
      const bytes = await readFile(path);
      out.images.push(decodeImage(bytes, path, limits));
      out.bytes.push(bytes);
      out.references.push({ name: basename(path), sha256: sha256Hex(bytes) });
    } catch (e) {
      if (!isAppError(e) && !(e instanceof Error && 'code' in e)) throw e;
      out.skipped.push({ path, code: isAppError(e) ? e.code : String((e as NodeJS.ErrnoException).code), message: (e as Error).message });
    }
  }
  return out;
}

export async function makeRecipe(
  cv: Cv,
  id: string,
  engine: Engine,
  refs: ReferenceSet,
  settings: RecipeSettings,
  seed: number,
  progress?: Progress,
): Promise<Recipe> {
  if (refs.images.length === 0) {
    throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `recipe ${id}: no usable reference images${refs.skipped.length ? ` (${refs.skipped.length} unreadable)` : ''}`);
  }
  const input = resolveInputSize(settings.input, refs.images[0], engine.inputSpec.sizeMultiple);
  // Before the (long) calibration: a reference far below the input size would teach the bank blur.
  refs.images.forEach((img, i) => {
    const view = cropFor(engine.inputSpec.resize, img.cols, img.rows, input.width, input.height);
    checkModelScale(view, input, `recipe ${id}: reference ${refs.references[i]?.name ?? i + 1}`);
  });
  const cal = await calibrate(cv, refs.images, engine.encoder, engine.taps, engine.openSession, { ...settings, input, seed }, progress);
  const evidence = evidenceOf(cal);
  const boundary = deriveBoundary(evidence, settings.falseRejectTarget);
  // Frames that never were files (simulated parts) are kept as PNG.
  const bytes = refs.images.map((m, i) => refs.bytes?.[i] ?? new Uint8Array(cv.imencode('.png', m)));
  return {
    id,
    version: recipeVersion(cal.bank, boundary),
    createdAt: new Date().toISOString(),
    bundle: { id: engine.bundle.manifest.id, version: engine.bundle.manifest.version },
    settings: { ...settings, input, seed },
    references: refs.references.map((r, i) => ({ name: r.name, sha256: sha256Hex(bytes[i]), file: referenceFileName(i, r.name) })),
    referenceImages: bytes,
    map: cal.map,
    boundary,
    calibration: evidence,
    bank: cal.bank,
    bankSources: cal.sources,
  };
}
