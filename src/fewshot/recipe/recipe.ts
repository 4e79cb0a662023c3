/**
 * A recipe (one part type): its settings, the memory bank, the calibrated boundary and the
 * bundle it was made with. On disk: <recipes>/<id>/recipe.json + bank.bin (raw float32
 * vectors, tap after tap) + sources.bin (uint16 reference index per bank row) + the
 * reference images (reference-files.ts), written atomically; sha256 checked on load.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECIPE_ID } from '../../config/index.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Boundary, CalibrationEvidence } from '../../judge/boundary.js';
import type { BankTap } from '../memory-bank.js';
import type { MapSpec } from '../scorer.js';
import type { InputSize } from '../encoder.js';
import type { RecipeSettings } from './settings.js';
import { writeReferenceFiles, type ReferenceEntry } from './reference-files.js';

export const RECIPE_SCHEMA = 'anomalygpt-edge/recipe@1';

export interface Recipe {
  readonly id: string;
  readonly version: string;
  readonly createdAt: string;
  readonly bundle: { readonly id: string; readonly version: string };
  readonly settings: Omit<RecipeSettings, 'input'> & { readonly input: InputSize; readonly seed: number };
  readonly references: readonly ReferenceEntry[];
  /** Encoded bytes of the references (same order), when in memory; saved as files. */
  readonly referenceImages?: readonly (Uint8Array | undefined)[];
  /** Per bank tap, the reference index of every row (leave-one-out, removing a reference). */
  readonly bankSources?: readonly Uint16Array[];
  readonly map: MapSpec;
  readonly boundary: Boundary;
  readonly calibration: CalibrationEvidence;
  readonly bank: readonly BankTap[];
}

type RecipeJson = Omit<Recipe, 'bank' | 'referenceImages' | 'bankSources'> & {
  schema: typeof RECIPE_SCHEMA;
  bank: { file: string; sha256: string; taps: Omit<BankTap, 'vectors'>[]; sources?: { file: string; sha256: string } };
};

export function recipeVersion(bank: readonly BankTap[], boundary: Boundary): string {
  const h = createHash('sha256');
  for (const t of bank) h.update(new Uint8Array(t.vectors.buffer, t.vectors.byteOffset, t.vectors.byteLength));
  h.update(JSON.stringify(boundary));
  return h.digest('hex').slice(0, 12);
}

export async function saveRecipe(dir: string, recipe: Recipe): Promise<string> {
  if (!RECIPE_ID.test(recipe.id)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe id "${recipe.id}" must match ${RECIPE_ID}`);
  const target = join(dir, recipe.id);
  const tmp = join(dir, `.${recipe.id}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const hash = createHash('sha256');
  const parts = recipe.bank.map((t) => new Uint8Array(t.vectors.buffer, t.vectors.byteOffset, t.vectors.byteLength));
  for (const p of parts) hash.update(p);
  await writeFile(join(tmp, 'bank.bin'), Buffer.concat(parts));
  const { bank, referenceImages, bankSources, ...rest } = recipe;
  let sources: RecipeJson['bank']['sources'];
  if (bankSources) {
    const raw = Buffer.concat(bankSources.map((s) => new Uint8Array(s.buffer, s.byteOffset, s.byteLength)));
    await writeFile(join(tmp, 'sources.bin'), raw);
    sources = { file: 'sources.bin', sha256: createHash('sha256').update(raw).digest('hex') };
  }
  await writeReferenceFiles(tmp, recipe.references, referenceImages, target);
  const json: RecipeJson = {
    schema: RECIPE_SCHEMA,
    ...rest,
    bank: { file: 'bank.bin', sha256: hash.digest('hex'), taps: bank.map(({ vectors: _v, ...meta }) => meta), ...(sources ? { sources } : {}) },
  };
  await writeFile(join(tmp, 'recipe.json'), `${JSON.stringify(json, null, 2)}\n`);
  // Swap in the new folder; a crash leaves either the old recipe or the new one, never half.
  const old = join(dir, `.${recipe.id}.old-${process.pid}`);
  await rename(target, old).catch(() => undefined);
  await rename(tmp, target);
  await rm(old, { recursive: true, force: true });
  return target;
}

export async function loadRecipe(dir: string, id: string): Promise<Recipe> {
  // The id becomes a path: '../x' or 'a/b' must not read outside the recipes folder.
  if (!RECIPE_ID.test(id)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe id "${id}" must match ${RECIPE_ID}`);
  const folder = join(dir, id);
  let json: RecipeJson;
  try {
    json = JSON.parse(await readFile(join(folder, 'recipe.json'), 'utf8')) as RecipeJson;
  } catch (e) {
    throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${id}: cannot read ${join(folder, 'recipe.json')} (${(e as Error).message}); create it with \`anomalygpt-edge calibrate --recipe ${id} DIR\``, { cause: e });
  }
  if (json.schema !== RECIPE_SCHEMA || !Array.isArray(json.bank?.taps)) {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: not a ${RECIPE_SCHEMA} file`);
  }
  const raw = await readFile(join(folder, json.bank.file)).catch((e: Error) => {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: bank file missing (${e.message})`);
  });
  if (createHash('sha256').update(raw).digest('hex') !== json.bank.sha256) {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: bank.bin fails its sha256; recalibrate the recipe`);
  }
  // One aligned copy of the whole file, then views per tap (no per-tap copies).
  const floats = new Float32Array(raw.byteLength / 4);
  new Uint8Array(floats.buffer).set(raw);
  let offset = 0;
  const bank = json.bank.taps.map((t) => {
    const n = t.count * t.channels;
    if (offset + n > floats.length) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: bank.bin is shorter than its manifest`);
    const vectors = floats.subarray(offset, offset + n);
    offset += n;
    return { ...t, vectors };
  });
  if (offset !== floats.length) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: bank.bin is longer than its manifest`);
  const bankSources = json.bank.sources ? await readSources(folder, id, json.bank.sources, bank) : undefined;
  const { schema: _s, bank: _b, ...rest } = json;
  return { ...rest, bank, ...(bankSources ? { bankSources } : {}) };
}

async function readSources(folder: string, id: string, ref: { file: string; sha256: string }, bank: readonly BankTap[]): Promise<Uint16Array[]> {
  const raw = await readFile(join(folder, ref.file)).catch((e: Error) => {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: ${ref.file} missing (${e.message})`);
  });
  if (createHash('sha256').update(raw).digest('hex') !== ref.sha256 || raw.byteLength !== 2 * bank.reduce((n, t) => n + t.count, 0)) {
    throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe ${id}: ${ref.file} fails its sha256 or size; recalibrate the recipe`);
  }
  const all = new Uint16Array(raw.byteLength / 2);
  new Uint8Array(all.buffer).set(raw);
  let o = 0;
  return bank.map((t) => all.subarray(o, (o += t.count)));
}
