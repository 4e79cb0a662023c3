/**
 * The recipes of the configured cameras as a lifecycle component (required part): each
 * camera's recipe is loaded from recipes.directory and opened as an Inspector on the shared
 * engine. A missing recipe fails the start with E_RECIPE_NOT_FOUND — except for a simulated
 * camera, which gets one calibrated from its own clean renders (sim-recipe.ts), saved, and
 * logged as such. Cameras that name the same recipe share one Inspector.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageLimits } from '../../capture/image-limits.js';
import type { Cv } from '../../capture/opencv.js';
import type { CameraConfig } from '../../config/index.js';
import { AppError, ErrorCodes, isAppError } from '../../errors.js';
import type { Engine } from '../engine.js';
import type { InputSize } from '../encoder.js';
import type { Logger } from '../../log.js';
import { Inspector } from '../inspector.js';
import { loadRecipe, saveRecipe, type Recipe } from './recipe.js';
import { defaultRecipeSettings, resolveInputSize } from './settings.js';
import { blankFrame, type EngineNeeds } from '../engine-component.js';
import type { Component } from '../../component.js';
import { calibrateSimRecipe } from './sim-recipe.js';
import { readReferenceImages } from './reference-files.js';

export interface RecipeBookOptions {
  /** recipes.directory (absolute). */
  readonly directory: string;
  readonly cameras: readonly CameraConfig[];
  readonly engine: () => Engine;
  readonly cv: () => Cv;
  readonly intraOpThreads: number;
  /** One warm-up inspection per recipe when > 0 (opens the scorer graph before READY). */
  readonly warmupRuns: number;
  /** images.maxPixels, for the reference files of a simulated camera calibrated at start. */
  readonly imageLimits?: ImageLimits;
  readonly logger: Logger;
}

interface Loaded {
  readonly recipe: Recipe;
  readonly inspector: Inspector;
  /** True when the daemon calibrated it from simulated renders at this start. */
  readonly calibratedFromSim: boolean;
}

/** Recipe ids in camera order, each once. */
function recipeIds(cameras: readonly CameraConfig[]): string[] {
  return [...new Set(cameras.map((c) => c.recipe))];
}

const sizeKey = (s: InputSize) => `${s.width}x${s.height}`;

/**
 * Taps and input sizes the recipes need, read from their recipe.json before the engine
 * opens (the engine encodes only the taps it was opened with). A missing recipe of a
 * simulated camera will be calibrated with the default settings; other missing or unreadable
 * recipes are left to the recipes step, which fails with the proper error.
 */
export async function recipeNeeds(directory: string, cameras: readonly CameraConfig[]): Promise<EngineNeeds> {
  const taps: string[] = [];
  const sizes = new Map<string, InputSize>();
  for (const id of recipeIds(cameras)) {
    let settings: { taps?: unknown; input?: unknown } | undefined;
    try {
      settings = (JSON.parse(await readFile(join(directory, id, 'recipe.json'), 'utf8')) as { settings?: typeof settings }).settings;
    } catch {
      const sim = cameras.find((c) => c.recipe === id && c.source.kind === 'sim')?.source;
      if (sim?.kind === 'sim') {
        const d = defaultRecipeSettings();
        settings = { taps: d.taps, input: resolveInputSize(d.input, { cols: sim.width, rows: sim.height }) };
      }
    }
    if (!settings) continue;
    if (Array.isArray(settings.taps)) for (const t of settings.taps) if (typeof t === 'string' && !taps.includes(t)) taps.push(t);
    const input = settings.input as Partial<InputSize> | undefined;
    if (input && Number.isInteger(input.width) && Number.isInteger(input.height)) {
      const size = { width: input.width!, height: input.height! };
      sizes.set(sizeKey(size), size);
    }
  }
  if (sizes.size === 0) sizes.set('default', { width: 224, height: 224 });
  return { ...(taps.length > 0 ? { taps } : {}), sizes: [...sizes.values()] };
}

/** A decoded image in plain memory (row-major, interleaved BGR or grey). */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

export class RecipeBook implements Component {
  readonly name = 'recipes';
  readonly #opts: RecipeBookOptions;
  readonly #loaded = new Map<string, Loaded>();
  readonly #loading = new Map<string, Promise<Inspector>>();

  constructor(options: RecipeBookOptions) {
    this.#opts = options;
  }

  /** The Inspector for a recipe id; valid after start(). */
  inspector(id: string): Inspector {
    const l = this.#loaded.get(id);
    if (!l) throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${id} is not loaded`);
    return l.inspector;
  }

  recipe(id: string): Recipe | undefined {
    return this.#loaded.get(id)?.recipe;
  }

  /** Id and version of every loaded recipe. */
  loaded(): { id: string; version: string }[] {
    return [...this.#loaded.values()].map(({ recipe }) => ({ id: recipe.id, version: recipe.version }));
  }

  /**
   * The kept reference images of a loaded recipe version, decoded (8-bit BGR or grey): any
   * bundle can build its own map from them — the AnomalyGPT bundle's few-shot map (SPEC §4).
   * Undefined when that version is not loaded or it kept no images (made before they were kept).
   */
  async referenceImages(id: string, version: string): Promise<DecodedImage[] | undefined> {
    const recipe = this.#loaded.get(id)?.recipe;
    if (!recipe || recipe.version !== version || recipe.references.length === 0 || recipe.references.some((r) => !r.file)) return undefined;
    const { images } = await readReferenceImages(join(this.#opts.directory, id), recipe.references);
    return images.map((m) => {
      try {
        return { data: m.getData(), width: m.cols, height: m.rows, channels: m.channels === 1 ? 1 : 3 };
      } finally {
        m.release();
      }
    });
  }

  /**
   * A recipe selected at run time (PLC RecipeId, MQTT cmd/recipe): loaded from disk and
   * opened on the running engine, or the already loaded one. Fails with the named error
   * (E_RECIPE_NOT_FOUND, E_RECIPE_INVALID, E_RECIPE_BUNDLE_MISMATCH) and changes nothing.
   */
  async ensure(id: string): Promise<Inspector> {
    const loaded = this.#loaded.get(id);
    if (loaded) return loaded.inspector;
    const pending = this.#loading.get(id) ?? this.#open(id);
    this.#loading.set(id, pending);
    try {
      return await pending;
    } finally {
      this.#loading.delete(id);
    }
  }

  /** Ids of the recipes loaded now. */
  loadedIds(): string[] {
    return [...this.#loaded.keys()];
  }

  /**
   * A new version of a loaded recipe, at run time (a review taught it, an undo, a new upload):
   * its Inspector is opened first — a failure changes nothing — then swapped in, so the next
   * frame of every camera on this recipe is inspected with it (and OPC UA RecipeVersion and the
   * MQTT state show it at their next tick, as after SelectRecipe). The old Inspector is
   * released once the frames in flight on it are done. Not loaded: nothing to swap (a camera
   * selecting it later loads the saved version).
   */
  async replace(recipe: Recipe): Promise<boolean> {
    const old = this.#loaded.get(recipe.id);
    if (!old) return false;
    const inspector = await Inspector.open(this.#opts.engine(), recipe, { masks: true });
    this.#loaded.set(recipe.id, { recipe, inspector, calibratedFromSim: false });
    this.#opts.logger.info({ recipe: recipe.id, version: recipe.version, previous: old.recipe.version, threshold: recipe.boundary.threshold }, 'recipe version swapped in');
    void old.inspector.release();
    return true;
  }

  async #open(id: string): Promise<Inspector> {
    const recipe = await loadRecipe(this.#opts.directory, id);
    const inspector = await Inspector.open(this.#opts.engine(), recipe, { masks: true });
    this.#loaded.set(id, { recipe, inspector, calibratedFromSim: false });
    this.#opts.logger.info({ recipe: id, version: recipe.version, threshold: recipe.boundary.threshold }, 'recipe loaded at run time');
    return inspector;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { directory, cameras, logger } = this.#opts;
    for (const id of recipeIds(cameras)) {
      signal.throwIfAborted();
      const { recipe, calibratedFromSim } = await this.#loadOrCalibrate(id);
      signal.throwIfAborted();
      const inspector = await Inspector.open(this.#opts.engine(), recipe, { masks: true });
      if (this.#opts.warmupRuns > 0) await inspector.inspect(blankFrame(recipe.settings.input));
      this.#loaded.set(id, { recipe, inspector, calibratedFromSim });
      logger.info(
        {
          recipe: id, version: recipe.version, bundle: `${recipe.bundle.id}@${recipe.bundle.version}`,
          references: recipe.references.length, threshold: recipe.boundary.threshold,
          cameras: cameras.filter((c) => c.recipe === id).map((c) => c.id), directory,
        },
        'recipe loaded',
      );
    }
  }

  /** Inspectors hold no resources of their own: their sessions belong to the engine. */
  async stop(): Promise<void> {
    this.#loaded.clear();
  }

  async #loadOrCalibrate(id: string): Promise<{ recipe: Recipe; calibratedFromSim: boolean }> {
    const { directory, cameras, logger } = this.#opts;
    try {
      return { recipe: await loadRecipe(directory, id), calibratedFromSim: false };
    } catch (e) {
      if (!isAppError(e, ErrorCodes.RECIPE_NOT_FOUND)) throw e;
      const sim = cameras.find((c) => c.recipe === id && c.source.kind === 'sim');
      if (!sim || sim.source.kind !== 'sim') {
        const users = cameras.filter((c) => c.recipe === id).map((c) => c.id).join(', ');
        throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `camera ${users} needs ${e.message}`, { cause: e });
      }
      logger.warn({ recipe: id, camera: sim.id, directory }, `recipe ${id} not found; calibrating it from simulated normal parts`);
      const t0 = performance.now();
      const recipe = await calibrateSimRecipe(this.#opts.cv(), this.#opts.engine(), id, sim.source, {
        intraOpThreads: this.#opts.intraOpThreads,
        logger,
        ...(this.#opts.imageLimits ? { limits: this.#opts.imageLimits } : {}),
      });
      const path = await saveRecipe(directory, recipe);
      logger.info(
        { recipe: id, version: recipe.version, camera: sim.id, references: recipe.references.length, threshold: recipe.boundary.threshold, path, ms: Math.round(performance.now() - t0) },
        `calibrated recipe ${id} from simulated normal parts`,
      );
      return { recipe, calibratedFromSim: true };
    }
  }
}
