/**
 * A recipe keeps its reference images, not only their features (issue 11): any bundle can
 * rebuild its bank from them (`rebuildRecipe`), and a reference added from the line (an
 * operator's "good part — false reject") is kept the same way. On disk:
 * <recipes>/<id>/references/<NNN>-<name>, the bytes exactly as they were read (or PNG for
 * frames that never were files), each listed in recipe.json with its sha256.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { decodeImage } from '../../capture/image-io.js';
import type { Mat } from '../../capture/opencv.js';
import { AppError, ErrorCodes } from '../../errors.js';

export const REFERENCES_DIR = 'references';

export interface ReferenceEntry {
  readonly name: string;
  readonly sha256: string;
  /** Path inside the recipe folder; absent for recipes made before references were kept. */
  readonly file?: string;
}

/** A file name that cannot leave the folder and keeps the order: 007-part.png. */
export function referenceFileName(index: number, name: string): string {
  const safe = basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'image';
  return `${REFERENCES_DIR}/${String(index).padStart(3, '0')}-${safe}`;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Writes every reference's bytes into `folder`: from `images[i]` when the caller has them,
 * else copied from `previous` (the recipe folder being replaced), so re-saving a loaded
 * recipe keeps its images. Entries without `file` and without bytes are left as they are.
 */
export async function writeReferenceFiles(
  folder: string,
  entries: readonly ReferenceEntry[],
  images: readonly (Uint8Array | undefined)[] | undefined,
  previous: string,
): Promise<void> {
  if (entries.some((e) => e.file)) await mkdir(join(folder, REFERENCES_DIR), { recursive: true });
  for (const [i, e] of entries.entries()) {
    if (!e.file) continue;
    const bytes = images?.[i] ?? (await readFile(join(previous, e.file)).catch(() => undefined));
    if (!bytes) throw new AppError(ErrorCodes.RECIPE_INVALID, `reference ${e.name}: no image bytes to keep (${e.file})`);
    await writeFile(join(folder, e.file), bytes);
  }
}

/** The recipe's reference images, checked against their sha256. */
export async function readReferenceImages(folder: string, entries: readonly ReferenceEntry[]): Promise<{ images: Mat[]; bytes: Uint8Array[] }> {
  const missing = entries.filter((e) => !e.file).map((e) => e.name);
  if (missing.length > 0) {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `${folder}: references ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''} were not kept (recipe made before references were stored); recalibrate from the image folder`);
  }
  const images: Mat[] = [];
  const bytes: Uint8Array[] = [];
  for (const e of entries) {
    const path = join(folder, e.file as string);
    const b = await readFile(path).catch((err: Error) => {
      throw new AppError(ErrorCodes.RECIPE_INVALID, `reference ${e.name}: cannot read ${path} (${err.message})`);
    });
    if (sha256Hex(b) !== e.sha256) throw new AppError(ErrorCodes.RECIPE_INVALID, `reference ${e.name}: ${path} fails its sha256`);
    images.push(decodeImage(b, path));
    bytes.push(b);
  }
  return { images, bytes };
}
