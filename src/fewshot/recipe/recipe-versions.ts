/**
 * Recipe versions on disk (issue 10 item 4: "writes a new recipe version, the old one kept;
 * one click to undo"). The active version stays where the daemon loads it,
 * <recipes>/<id>/ (recipe.ts); every version it replaces is kept, whole, under
 * <recipes>/.versions/<id>/<version>/ — hard links to the replaced files (no copy; a file
 * system without links gets copies), so keeping a version costs a directory.
 *
 * Writes never leave a half recipe: the new version is written aside (saveRecipe's temporary
 * folder, or the restored version's links), then renamed into place. Callers serialise the
 * writes of one recipe (the daemon's recipe desk does).
 */
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RECIPE_ID } from '../../config/index.js';
import { AppError, ErrorCodes } from '../../errors.js';
import { loadRecipe, saveRecipe, type Recipe } from './recipe.js';

export const VERSIONS_DIR = '.versions';

export interface RecipeVersionInfo {
  readonly version: string;
  readonly createdAt: string;
  readonly references: number;
  readonly threshold: number;
}

const VERSION = /^[0-9a-f]{6,64}$/;

function versionsOf(dir: string, id: string): string {
  if (!RECIPE_ID.test(id)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe id "${id}" must match ${RECIPE_ID}`);
  return join(dir, VERSIONS_DIR, id);
}

/** Hard-links (or copies) every file of `from` into `to`, sub-folders included. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory()) await linkTree(a, b);
    else if (e.isFile()) await link(a, b).catch(() => copyFile(a, b));
  }
}

async function versionOfFolder(folder: string): Promise<string | undefined> {
  try {
    const v = (JSON.parse(await readFile(join(folder, 'recipe.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' && VERSION.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the active version of `id` under .versions (once per version). */
export async function keepActiveVersion(dir: string, id: string): Promise<string | undefined> {
  const active = join(dir, id);
  const version = await versionOfFolder(active);
  if (!version) return undefined;
  const target = join(versionsOf(dir, id), version);
  if (await stat(join(target, 'recipe.json')).catch(() => undefined)) return version;
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await linkTree(active, tmp);
  await rm(target, { recursive: true, force: true });
  await rename(tmp, target);
  return version;
}

/** Saves `recipe` as the active version of its id, keeping the version it replaces. */
export async function saveRecipeVersion(dir: string, recipe: Recipe): Promise<{ path: string; previous: string | undefined }> {
  const previous = await keepActiveVersion(dir, recipe.id);
  const path = await saveRecipe(dir, recipe);
  return { path, previous };
}

/**
 * Makes a kept version the active one again (undo): the active version is kept first, the
 * kept one is linked aside and renamed into place. Returns it loaded (sha256 checked).
 */
export async function restoreRecipeVersion(dir: string, id: string, version: string): Promise<Recipe> {
  if (!VERSION.test(version)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe version "${version}" is not a version`);
  const kept = join(versionsOf(dir, id), version);
  // Checked before anything moves: a damaged kept version must not replace a good active one.
  const recipe = await loadRecipe(join(dir, VERSIONS_DIR, id), version).catch((e: Error) => {
    throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${id}: version ${version} is not kept (${e.message})`, { cause: e });
  });
  await keepActiveVersion(dir, id);
  const target = join(dir, id);
  const tmp = join(dir, `.${id}.restore-${process.pid}`);
  const old = join(dir, `.${id}.old-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await linkTree(kept, tmp);
  await rename(target, old).catch(() => undefined);
  await rename(tmp, target);
  await rm(old, { recursive: true, force: true });
  return recipe;
}

/** The kept versions of a recipe, newest first. */
export async function listRecipeVersions(dir: string, id: string): Promise<RecipeVersionInfo[]> {
  const folder = versionsOf(dir, id);
  const names = await readdir(folder).catch(() => [] as string[]);
  const out: RecipeVersionInfo[] = [];
  for (const name of names) {
    if (!VERSION.test(name)) continue;
    try {
      const j = JSON.parse(await readFile(join(folder, name, 'recipe.json'), 'utf8')) as { version: string; createdAt: string; references: unknown[]; boundary: { threshold: number } };
      out.push({ version: j.version, createdAt: j.createdAt, references: j.references.length, threshold: j.boundary.threshold });
    } catch {
      // a version being written, or damaged: not offered
    }
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** Recipe ids with a recipe.json under `dir` (hidden folders — versions, temporaries — skipped). */
export async function listRecipeIds(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || !RECIPE_ID.test(e.name)) continue;
    if (await stat(join(dir, e.name, 'recipe.json')).catch(() => undefined)) out.push(e.name);
  }
  return out.sort();
}
