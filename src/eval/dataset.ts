/**
 * MVTec AD folder layout (shared/data/README.md): <cat>/train/good, <cat>/test/<type>,
 * <cat>/ground_truth/<type>/<name>_mask.png. A folder is one category when it has
 * train/good, else a folder of categories.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { listImageFiles, naturalCompare } from '../capture/image-files.js';
import { AppError, ErrorCodes } from '../errors.js';
import { mulberry32 } from '../util/prng.js';

export interface TestImage {
  readonly path: string;
  readonly type: string;
  readonly defective: boolean;
  readonly maskPath?: string;
}

export interface Category {
  readonly name: string;
  readonly dir: string;
  readonly train: readonly string[];
  readonly test: readonly TestImage[];
  readonly hasMasks: boolean;
}

/** Image files of a folder in natural order; a missing folder is an empty list. */
export async function listImages(dir: string): Promise<string[]> {
  return listImageFiles(dir).catch(() => []);
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

export async function loadCategory(dir: string): Promise<Category> {
  const train = await listImages(join(dir, 'train', 'good'));
  if (train.length === 0) {
    throw new AppError(ErrorCodes.DATASET_LAYOUT, `${dir}: no images in train/good (expected the MVTec AD layout)`);
  }
  const types = (await readdir(join(dir, 'test')).catch(() => [] as string[])).sort(naturalCompare);
  const test: TestImage[] = [];
  let hasMasks = false;
  for (const type of types) {
    if (!(await isDir(join(dir, 'test', type)))) continue;
    for (const path of await listImages(join(dir, 'test', type))) {
      const defective = type !== 'good';
      let maskPath: string | undefined;
      if (defective) {
        const candidate = join(dir, 'ground_truth', type, `${basename(path, extname(path))}_mask.png`);
        if ((await stat(candidate).catch(() => undefined))?.isFile()) {
          maskPath = candidate;
          hasMasks = true;
        }
      }
      test.push({ path, type, defective, maskPath });
    }
  }
  if (!test.some((t) => t.defective) || !test.some((t) => !t.defective)) {
    throw new AppError(ErrorCodes.DATASET_LAYOUT, `${dir}: test/ needs both good and defective images`);
  }
  return { name: basename(dir), dir, train, test, hasMasks };
}

export async function loadDataset(dir: string): Promise<Category[]> {
  if (await isDir(join(dir, 'train', 'good'))) return [await loadCategory(dir)];
  const cats: Category[] = [];
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort(naturalCompare)) {
    if (await isDir(join(dir, name, 'train', 'good'))) cats.push(await loadCategory(join(dir, name)));
  }
  if (cats.length === 0) throw new AppError(ErrorCodes.DATASET_LAYOUT, `${dir}: neither a category (train/good) nor a folder of categories`);
  return cats;
}

/** Seeded draw of k distinct references (mulberry32 + partial Fisher–Yates). */
export function drawReferences(pool: readonly string[], k: number, seed: number): string[] {
  if (k > pool.length) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `asked for ${k} references, only ${pool.length} in train/good`);
  const next = mulberry32(seed);
  const idx = pool.map((_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(next() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).map((i) => pool[i]);
}
