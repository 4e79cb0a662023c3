/**
 * The pixels a review or a new recipe is made from: an inspection's frame — from the live
 * cache while it holds it (the exact frame the judge saw, kept as a lossless PNG), else the
 * JPEG the record saved with it (archive.saveFrames) — and uploaded images, decoded under
 * images.maxPixels. Plus the labelled-evidence folder of a recipe.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InspectionRecord } from '../archive/inspection-record.js';
import type { Frame } from '../capture/frame.js';
import { decodeImage, frameToMat, matToFrame } from '../capture/image-io.js';
import type { ImageLimits } from '../capture/image-limits.js';
import type { Cv, Mat } from '../capture/opencv.js';
import { AppError, ErrorCodes } from '../errors.js';
import type { LiveCache } from '../http/live-cache.js';

export interface InspectionFrame {
  readonly image: Mat;
  readonly frame: Frame;
  /** Bytes to keep (the recipe's reference file, the evidence file). */
  readonly bytes: Uint8Array;
  readonly ext: '.png' | '.jpg';
  readonly pass: boolean;
  readonly recipe: { readonly id: string; readonly version: string };
}

/** A file name from an inspection id (ids are `<camera>-<capturedAt>-<seq>`). */
export const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 160) || 'frame';

export async function inspectionFrame(
  id: string,
  o: { readonly record: InspectionRecord; readonly live: LiveCache | undefined; readonly cv: () => Cv; readonly limits: ImageLimits },
): Promise<InspectionFrame> {
  const recorded = o.record.get(id);
  const live = o.live?.get(id);
  if (!recorded && !live) throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${id} is not in the record nor in memory`);
  const v = recorded?.verdict ?? live!.verdict;
  const meta = { pass: v.pass, recipe: v.recipe };
  if (live) {
    const image = frameToMat(live.frame);
    return { image, frame: live.frame, bytes: new Uint8Array(o.cv().imencode('.png', image)), ext: '.png', ...meta };
  }
  if (!recorded?.files.frame) {
    throw new AppError(ErrorCodes.REVIEW_INVALID, `inspection ${id}: its frame was not saved (archive.saveFrames) and is no longer in memory: nothing to learn from`);
  }
  const path = o.record.filePath(recorded.files.frame);
  const bytes = await readFile(path).catch((e: Error) => {
    throw new AppError(ErrorCodes.REVIEW_INVALID, `inspection ${id}: its saved frame is gone (${e.message})`);
  });
  const image = decodeImage(bytes, path, o.limits);
  const frame = matToFrame(image, { cameraId: v.cameraId, seq: v.seq, capturedAt: v.capturedAt, origin: `record:${id}` });
  return { image, frame, bytes, ext: '.jpg', ...meta };
}

/** <stateDirectory>/evidence/<recipe>/test/<kind>/: MVTec-like, so `eval` can read it later. */
export function evidenceDir(stateDirectory: string, recipeId: string, kind: 'missed' | 'good'): string {
  return join(stateDirectory, 'evidence', recipeId, 'test', kind);
}

/** Writes a labelled frame; returns its path relative to the state directory. */
export async function keepEvidence(stateDirectory: string, recipeId: string, kind: 'missed' | 'good', name: string, bytes: Uint8Array): Promise<string> {
  const dir = evidenceDir(stateDirectory, recipeId, kind);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), bytes);
  return join('evidence', recipeId, 'test', kind, name);
}

export async function countEvidence(stateDirectory: string, recipeId: string, kind: 'missed' | 'good'): Promise<number> {
  return (await readdir(evidenceDir(stateDirectory, recipeId, kind)).catch(() => [])).length;
}
