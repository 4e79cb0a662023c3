/**
 * Listing image folders for replay and for the simulator's reference images.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const IMAGE_NAME = /\.(png|jpe?g|bmp|tiff?)$/i;

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Natural order: img2 < img10; ties (case variants) broken by code points for stability. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

function isImageFileName(name: string): boolean {
  return IMAGE_NAME.test(name);
}

/**
 * Image files directly inside `dir` (not recursive), as full paths in natural order.
 * Symlinks to files count; sub-folders are ignored. Throws the fs error if `dir` is unreadable.
 */
export async function listImageFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!isImageFileName(entry.name)) continue;
    if (entry.isFile()) names.push(entry.name);
    else if (entry.isSymbolicLink()) {
      const target = await stat(join(dir, entry.name)).catch(() => undefined);
      if (target?.isFile()) names.push(entry.name);
    }
  }
  return names.sort(naturalCompare).map((name) => join(dir, name));
}

/**
 * Ground truth from the MVTec AD layout (shared/data/README.md): any `good` folder on the
 * path means a normal part; `test/<type>/file` with type ≠ good means a defect.
 * Anything else is unlabelled.
 */
export function truthLabelForPath(path: string): 'good' | 'defect' | undefined {
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  const folders = parts.slice(0, -1);
  if (folders.includes('good')) return 'good';
  const test = folders.lastIndexOf('test');
  if (test >= 0 && test < folders.length - 1) return 'defect';
  return undefined;
}
