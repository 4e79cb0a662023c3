/**
 * `anomalygpt-edge calibrate --recipe R DIR [--shots K] [--config FILE] [--recipes DIR] …`
 * Makes recipe R from the normal reference images in DIR (the first K in natural order with
 * --shots) and writes it to the recipes directory (--recipes, else the config's). Unreadable
 * images are reported and skipped; progress goes to stderr; stdout gets one JSON summary.
 *
 * The bundle: --bundle, else the config's inference.bundle when --config is given, else the
 * default bundle — the daemon that loads the recipe must run the same bundle.
 */
import { loadOpenCv } from '../capture/opencv.js';
import { listImageFiles } from '../capture/image-files.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../capture/image-limits.js';
import { AppError, ErrorCodes, ExitCodes, toError } from '../errors.js';
import { openEngine, type EngineOptions } from '../fewshot/engine.js';
import { scopedEngine } from '../fewshot/scoped-engine.js';
import { makeRecipe, readReferences } from '../fewshot/recipe/make-recipe.js';
import { RECIPE_ID } from '../config/index.js';
import { saveRecipe } from '../fewshot/recipe/recipe.js';
import { loadCliConfig, parseCommand, positiveInt, recipesDirectory, resolvePath, usageError, type CliContext } from './cli-context.js';
import { recipeOptions, recipeSettingsFromArgs } from './recipe-args.js';
import { rebuildRecipe } from '../fewshot/recipe/rebuild.js';
import { keptReferences, selectNormalFrames } from '../fewshot/recipe/bootstrap.js';
import { withLineEvidence } from '../fewshot/recipe/line-evidence.js';
import { loadRecipe } from '../fewshot/recipe/recipe.js';

export const CALIBRATE_USAGE = `usage: anomalygpt-edge calibrate --recipe R DIR [options]
       anomalygpt-edge calibrate --recipe R --rebuild [--line DIR] [options]
  Makes recipe R from the normal (good) images in DIR and saves it to the recipes directory.
  --rebuild           recalibrate R from the reference images it keeps (e.g. for another bundle)
  --line DIR          with --rebuild: frames the line judged good (e.g. saved by the record) are
                      scored against the rebuilt bank and join the boundary's held-out evidence
                      (after marked false rejects: README "Learning from the line")
  --recipe R          recipe id (lower-case letters, digits, _ and -)
  --shots K           use the first K images of DIR in natural order (default: all)
  --unlabelled        DIR holds frames of the running line, most good, a few not (no labels):
                      frames whose mutual score is an outlier are dropped (MuSc-style, README
                      "Learning from the line"), the rest become the references
  --seed N            calibration seed (default 0)
  --config FILE       take the recipes directory and bundle from FILE (default: embedded config)
  --recipes DIR       recipes directory (overrides the config's)
  --bundle DIR        model bundle (default: the config's with --config, else the default bundle)
  --taps, --size WxH, --augment, --max-bank, --smooth, --pool, --score, --perturbations,
  --providers, --threads   recipe and engine settings (see README)
  Prints a JSON summary (id, version, references, threshold, skipped, dropped) on stdout.`;

export async function calibrateCommand(argv: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      recipe: { type: 'string', short: 'r' },
      shots: { type: 'string' },
      seed: { type: 'string', default: '0' },
      config: { type: 'string', short: 'c' },
      recipes: { type: 'string' },
      rebuild: { type: 'boolean' },
      unlabelled: { type: 'boolean' },
      line: { type: 'string' },
      ...recipeOptions,
    },
    CALIBRATE_USAGE,
    ctx.io,
  );
  if (!parsed) return ExitCodes.OK;
  const { values, positionals } = parsed;
  const id = values.recipe;
  if (id === undefined) throw usageError('--recipe R is required', CALIBRATE_USAGE);
  if (!RECIPE_ID.test(id)) throw usageError(`--recipe "${id}" must match ${RECIPE_ID}`, CALIBRATE_USAGE);
  if (positionals.length !== (values.rebuild ? 0 : 1)) {
    throw usageError(values.rebuild ? '--rebuild takes no image folder' : 'calibrate takes exactly one image folder DIR', CALIBRATE_USAGE);
  }
  const shots = positiveInt(values.shots, 'shots', CALIBRATE_USAGE);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw usageError(`--seed must be an integer (got "${values.seed}")`, CALIBRATE_USAGE);

  const { engineOptions: argEngine, settings } = recipeSettingsFromArgs(values);
  let engineOptions: EngineOptions = argEngine;
  // images.maxPixels from --config, else the default limit.
  const limits = values.config !== undefined ? loadCliConfig(ctx, values.config).images : DEFAULT_IMAGE_LIMITS;
  if (values.bundle === undefined && values.config !== undefined) {
    const inference = loadCliConfig(ctx, values.config).inference;
    engineOptions = {
      ...argEngine,
      bundleDir: inference.bundle,
      ...(values.providers === undefined ? { executionProviders: inference.executionProviders } : {}),
      ...(values.threads === undefined ? { intraOpThreads: inference.intraOpThreads } : {}),
    };
  } else if (values.bundle !== undefined) {
    engineOptions = { ...argEngine, bundleDir: resolvePath(ctx, values.bundle) };
  }
  const outDir = recipesDirectory(ctx, values);
  if (values.line !== undefined && !values.rebuild) throw usageError('--line DIR goes with --rebuild', CALIBRATE_USAGE);
  if (values.rebuild) return rebuild(ctx, id, outDir, engineOptions, values.taps !== undefined, values.line === undefined ? undefined : { dir: resolvePath(ctx, values.line), limits });

  const dir = resolvePath(ctx, positionals[0]);
  let files: string[];
  try {
    files = await listImageFiles(dir);
  } catch (e) {
    throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `recipe ${id}: cannot list reference images in ${dir} (${toError(e).message})`, { cause: e });
  }
  const chosen = shots === undefined ? files : files.slice(0, shots);
  ctx.io.err(`calibrate ${id}: ${chosen.length} of ${files.length} images in ${dir}\n`);
  let refs = await readReferences(chosen, limits);
  for (const s of refs.skipped) ctx.io.err(`  skipped ${s.path}: ${s.code}: ${s.message}\n`);
  if (refs.images.length === 0) {
    throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, `recipe ${id}: no usable reference images in ${dir}${refs.skipped.length ? ` (${refs.skipped.length} unreadable)` : ''}`);
  }

  const t0 = performance.now();
  const cv = loadOpenCv();
  const engine = await openEngine(cv, engineOptions, ctx.logger);
  let recipe;
  let dropped: { name: string; score: number }[] = [];
  try {
    const scoped = scopedEngine(engine, { intraOpThreads: engineOptions.intraOpThreads }, ctx.logger);
    try {
      if (values.unlabelled) {
        const sel = await selectNormalFrames(cv, refs.images, scoped.engine, settings, seed);
        dropped = sel.dropped.map((i) => ({ name: refs.references[i].name, score: +sel.scores[i].toFixed(4) }));
        ctx.io.err(`  unlabelled: kept ${sel.keep.length} of ${refs.images.length} frames; dropped ${dropped.map((d) => d.name).join(', ') || 'none'}\n`);
        refs = keptReferences(refs, sel);
      } else if (refs.images.length === 1) {
        // Measured (README "Accuracy"): one good part says nothing of how far good parts vary.
        ctx.io.err(`  warning: one reference — the boundary cannot know how much good parts differ from each other; use 4 or more good parts, --unlabelled with frames of the line, or later --rebuild --line with frames the line passed\n`);
      }
      recipe = await makeRecipe(cv, id, scoped.engine, refs, settings, seed, (done, total, what) =>
        ctx.io.err(`\r  ${what} ${done}/${total}   ${done === total ? '\n' : ''}`),
      );
    } finally {
      await scoped.release();
    }
  } finally {
    await engine.close();
  }
  const path = await saveRecipe(outDir, recipe);
  ctx.io.out(
    `${JSON.stringify({
      id: recipe.id,
      version: recipe.version,
      path,
      bundle: recipe.bundle,
      references: recipe.references.length,
      threshold: recipe.boundary.threshold,
      boundary: recipe.boundary,
      skipped: refs.skipped,
      dropped,
      ms: Math.round(performance.now() - t0),
    })}\n`,
  );
  return ExitCodes.OK;
}

/** `--rebuild`: the recipe's own reference images, calibrated again on the chosen bundle. */
async function rebuild(ctx: CliContext, id: string, outDir: string, engineOptions: EngineOptions, tapsGiven: boolean, line?: { dir: string; limits: ImageLimits }): Promise<number> {
  const t0 = performance.now();
  const old = await loadRecipe(outDir, id);
  const cv = loadOpenCv();
  const engine = await openEngine(cv, { ...engineOptions, taps: tapsGiven ? engineOptions.taps : old.settings.taps }, ctx.logger);
  let recipe;
  try {
    recipe = await rebuildRecipe(cv, engine, outDir, old, (done, total, what) => ctx.io.err(`\r  ${what} ${done}/${total}   ${done === total ? '\n' : ''}`));
    if (line) {
      const frames = await readReferences(await listImageFiles(line.dir), line.limits);
      for (const sk of frames.skipped) ctx.io.err(`  skipped ${sk.path}: ${sk.code}: ${sk.message}\n`);
      try {
        const learnt = await withLineEvidence(engine, recipe, frames.images);
        ctx.io.err(`  line: ${frames.images.length} frames as held-out evidence; threshold ${recipe.boundary.threshold.toPrecision(4)} → ${learnt.recipe.boundary.threshold.toPrecision(4)}\n`);
        recipe = learnt.recipe;
      } finally {
        for (const m of frames.images) m.release();
      }
    }
  } finally {
    await engine.close();
  }
  const path = await saveRecipe(outDir, recipe);
  ctx.io.out(`${JSON.stringify({ id, version: recipe.version, previous: old.version, path, bundle: recipe.bundle, references: recipe.references.length, threshold: recipe.boundary.threshold, ms: Math.round(performance.now() - t0) })}\n`);
  return ExitCodes.OK;
}
