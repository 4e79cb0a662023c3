/**
 * `anomalygpt-edge inspect --recipe R IMAGE… [--out DIR] [--config FILE] [--recipes DIR]`
 * Judges image files with a recipe, exactly as the daemon would (same Inspector). Per image:
 * one JSON line on stdout (the Verdict, mask as a file path), `<name>.overlay.png` in --out
 * (default: the current folder) and `<name>.mask.png` for fails. A bad image (zero bytes,
 * truncated, not an image, above images.maxPixels, far below the model input) gives
 * `{path, error: {code, message}}` and the rest go on.
 * Exit status: 0 all inspected, 65 (EX_DATAERR) when some inputs were bad.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Frame } from '../capture/frame.js';
import { frameToMat, matToFrame, readImageFile } from '../capture/image-io.js';
import { loadOpenCv } from '../capture/opencv.js';
import { ExitCodes, isAppError } from '../errors.js';
import { openEngine } from '../fewshot/engine.js';
import { overlayPng } from '../judge/mask-image.js';
import type { Verdict } from '../judge/verdict.js';
import { Inspector, type Inspection } from '../fewshot/inspector.js';
import { loadRecipe } from '../fewshot/recipe/recipe.js';
import { loadCliConfig, parseCommand, resolvePath, usageError, type CliContext } from './cli-context.js';
import type { CropRect } from '../judge/anomaly-map.js';

const INSPECT_USAGE = `usage: anomalygpt-edge inspect --recipe R IMAGE... [options]
  Judges each IMAGE with recipe R; one JSON verdict per line on stdout.
  --recipe R       recipe id
  --out DIR        where <name>.overlay.png and <name>.mask.png (fails) go (default: .)
  --config FILE    bundle, providers and recipes directory from FILE (default: embedded config)
  --recipes DIR    recipes directory (overrides the config's)
  Exit status: 0 all inspected, 65 some inputs were bad (their lines carry "error").`;

/** Bad input, not a broken tool: reported per image and the command goes on. */
function isBadInput(e: unknown): boolean {
  return isAppError(e) && (e.code.startsWith('E_IMAGE') || e.code === 'E_FRAME_INVALID');
}

/** `<stem>`, `<stem>-2`, … so that test/crack/000.png and test/good/000.png do not collide. */
function uniqueStem(path: string, used: Set<string>): string {
  const stem = basename(path, extname(path)) || 'image';
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}

/**
 * The overlay PNG. The map covers the model's view of the frame; for bundles that crop
 * (shorter-side-crop) the overlay shows that view, with the regions moved into it.
 */
function overlayFor(frame: Frame, inspection: Inspection): Buffer {
  const { verdict: v, map, crop } = inspection;
  const full = crop.x === 0 && crop.y === 0 && crop.width === frame.width && crop.height === frame.height;
  if (full) return overlayPng(frame, map.data, map.width, map.height, v);
  const cv = loadOpenCv();
  const view = frameToMat(frame).getRegion(new cv.Rect(crop.x, crop.y, crop.width, crop.height)).copy();
  const locations = v.locations.map((l) => ({
    ...l,
    box: { ...l.box, x: l.box.x - crop.x, y: l.box.y - crop.y },
    centroid: { x: l.centroid.x - crop.x, y: l.centroid.y - crop.y },
  }));
  return overlayPng(view, map.data, map.width, map.height, { ...v, locations });
}

export type InspectLine =
  | (Omit<Verdict, 'maskPng' | 'map'> & { path: string; overlay: string; mask: string | null; crop: CropRect })
  | { path: string; error: { code: string; message: string } };

export async function inspectCommand(argv: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommand(
    argv,
    { recipe: { type: 'string', short: 'r' }, out: { type: 'string', short: 'o' }, config: { type: 'string', short: 'c' }, recipes: { type: 'string' } },
    INSPECT_USAGE,
    ctx.io,
  );
  if (!parsed) return ExitCodes.OK;
  const { values, positionals } = parsed;
  if (values.recipe === undefined) throw usageError('--recipe R is required', INSPECT_USAGE);
  if (positionals.length === 0) throw usageError('inspect needs at least one IMAGE', INSPECT_USAGE);

  const config = loadCliConfig(ctx, values.config);
  const recipesDir = values.recipes !== undefined ? resolvePath(ctx, values.recipes) : config.recipes.directory;
  const recipe = await loadRecipe(recipesDir, values.recipe);
  const outDir = resolvePath(ctx, values.out ?? '.');
  await mkdir(outDir, { recursive: true });

  const cv = loadOpenCv();
  const engine = await openEngine(
    cv,
    {
      bundleDir: config.inference.bundle,
      executionProviders: config.inference.executionProviders,
      intraOpThreads: config.inference.intraOpThreads,
      taps: recipe.bank.map((t) => t.name),
    },
    ctx.logger,
  );
  let bad = 0;
  const used = new Set<string>();
  const emit = (line: InspectLine) => ctx.io.out(`${JSON.stringify(line)}\n`);
  try {
    const inspector = await Inspector.open(engine, recipe, { masks: true });
    for (const [i, arg] of positionals.entries()) {
      const path = resolvePath(ctx, arg);
      let frame: Frame;
      let inspection: Inspection;
      try {
        frame = matToFrame(await readImageFile(path, config.images), { cameraId: 'cli', seq: i + 1, capturedAt: Date.now(), origin: path });
        inspection = await inspector.inspectWithMap(frame);
      } catch (e) {
        if (!isBadInput(e)) throw e;
        bad++;
        emit({ path: arg, error: { code: (e as { code: string }).code, message: (e as Error).message } });
        continue;
      }
      const stem = uniqueStem(path, used);
      const overlay = join(outDir, `${stem}.overlay.png`);
      await writeFile(overlay, overlayFor(frame, inspection));
      // The map is in memory only (VerdictMap): the overlay shows it, the JSON line does not carry it.
      const { maskPng, map: _map, ...verdict } = inspection.verdict;
      let mask: string | null = null;
      if (maskPng) {
        mask = join(outDir, `${stem}.mask.png`);
        await writeFile(mask, maskPng);
      }
      emit({ path: arg, ...verdict, overlay, mask, crop: inspection.crop });
    }
  } finally {
    await engine.close();
  }
  if (bad > 0) ctx.io.err(`inspect: ${bad} of ${positionals.length} inputs could not be inspected\n`);
  return bad > 0 ? ExitCodes.DATA : ExitCodes.OK;
}
