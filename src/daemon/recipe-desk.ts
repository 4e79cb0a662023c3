/**
 * The review loop and recipe management behind the console's API (src/http/recipe-routes.ts;
 * docs/http-api.md "Review the verdict, teach the recipe", "Recipes"), over the recipe book,
 * the shared engine and the record:
 *
 * - "good" on a fail: addReference (the frame's patches into the bank, the boundary derived
 *   again from the recipe's evidence) → the new version written aside and renamed into place,
 *   the old one kept (recipe-versions.ts) → swapped into the recipe book the way SelectRecipe
 *   loads one, so OPC UA RecipeVersion and the MQTT state show it at their next tick; the
 *   frame in flight finishes with the version it started with → the same frame judged again.
 * - "defect" on a pass: the frame kept as labelled evidence (<state>/evidence/<recipe>/test/missed).
 * - undo: the version before the newest review-made one, restored the same way.
 * - Every action: a row in the record's `reviews` and a line in <state>/audit.log.
 *
 * One change per recipe at a time (E_RECIPE_BUSY), one review per inspection (E_REVIEW_CONFLICT,
 * also for two browsers clicking at once), one calibration at a time.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { InspectionRecord } from '../archive/inspection-record.js';
import type { StoredReview } from '../archive/record-schema.js';
import { decodeImage, sniffFormat } from '../capture/image-io.js';
import type { ImageLimits } from '../capture/image-limits.js';
import type { Cv, Mat } from '../capture/opencv.js';
import { RECIPE_ID } from '../config/index.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { Engine } from '../fewshot/engine.js';
import { addReference } from '../fewshot/recipe/add-reference.js';
import { keptReferences, selectNormalFrames } from '../fewshot/recipe/bootstrap.js';
import { withLineEvidence } from '../fewshot/recipe/line-evidence.js';
import { makeRecipe, type ReferenceSet } from '../fewshot/recipe/make-recipe.js';
import type { Recipe } from '../fewshot/recipe/recipe.js';
import type { RecipeBook } from '../fewshot/recipe/recipe-book.js';
import { listRecipeIds, listRecipeVersions, restoreRecipeVersion, saveRecipeVersion } from '../fewshot/recipe/recipe-versions.js';
import { sha256Hex } from '../fewshot/recipe/reference-files.js';
import { defaultRecipeSettings } from '../fewshot/recipe/settings.js';
import { scopedEngine } from '../fewshot/scoped-engine.js';
import type { Principal } from '../http/access.js';
import type { LiveCache } from '../http/live-cache.js';
import type { RecipeDesk, RecipeDetail, RecipeSource, RecipeSummary, RelearnOutcome, ReviewLabel, ReviewOutcome, ReviewView, UndoOutcome } from '../http/recipe-api.js';
import type { Logger } from '../log.js';
import type { AuditLog } from './audit-log.js';
import type { DaemonController } from './daemon-control.js';
import { countEvidence, inspectionFrame, keepEvidence, safeName, type InspectionFrame } from './review-frames.js';

export interface RecipeDeskOptions {
  /** recipes.directory. */
  readonly directory: string;
  readonly stateDirectory: string;
  readonly recipes: RecipeBook;
  readonly engine: () => Engine;
  readonly cv: () => Cv;
  readonly record: InspectionRecord;
  readonly live: LiveCache | undefined;
  readonly control: DaemonController;
  readonly limits: ImageLimits;
  readonly intraOpThreads: number;
  readonly audit: AuditLog;
  readonly logger: Logger;
}

type RecipeMeta = Omit<Recipe, 'bank' | 'bankSources' | 'referenceImages'>;

const conflict = (m: string) => new AppError(ErrorCodes.REVIEW_CONFLICT, m);
const invalid = (m: string) => new AppError(ErrorCodes.REVIEW_INVALID, m);
const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', bmp: 'image/bmp', tiff: 'image/tiff', webp: 'image/webp', pnm: 'image/x-portable-anymap' };

function withUndone(rows: readonly StoredReview[]): ReviewView[] {
  const undone = new Set(rows.filter((r) => r.action === 'undo').map((r) => r.undoes));
  return rows.map((r) => ({ ...r, undone: r.action === 'review' && undone.has(r.id) }));
}

export class ConsoleRecipeDesk implements RecipeDesk {
  readonly #o: RecipeDeskOptions;
  /** Recipe id → what is changing it now. */
  readonly #busy = new Map<string, string>();
  readonly #reviewing = new Set<string>();
  #creating: string | undefined;

  constructor(options: RecipeDeskOptions) {
    this.#o = options;
  }

  reviews(inspectionId: string): ReviewView[] {
    return withUndone(this.#o.record.reviews(inspectionId));
  }

  async review(inspectionId: string, label: ReviewLabel, note: string | null, by: Principal): Promise<ReviewOutcome> {
    const t0 = performance.now();
    const v = this.#o.record.get(inspectionId)?.verdict ?? this.#o.live?.get(inspectionId)?.verdict;
    if (!v) throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${inspectionId} is not in the record nor in memory`);
    if (label === 'good' && v.pass) throw invalid(`inspection ${inspectionId} passed: "good" would change nothing (mark a pass as a missed defect, or a fail as good)`);
    if (label === 'defect' && !v.pass) throw invalid(`inspection ${inspectionId} failed already: "defect" agrees with the verdict (mark a fail as good, or a pass as a missed defect)`);
    // Checked and claimed in one turn of the event loop: of two browsers, exactly one gets it.
    if (this.#reviewing.has(inspectionId)) throw conflict(`inspection ${inspectionId} is being reviewed by someone else right now`);
    const prior = this.reviews(inspectionId).find((r) => r.action === 'review' && !r.undone);
    if (prior) throw conflict(`inspection ${inspectionId} was already marked ${prior.label} by ${prior.user} at ${new Date(prior.at).toISOString()}`);
    this.#reviewing.add(inspectionId);
    try {
      const f = await inspectionFrame(inspectionId, this.#o);
      try {
        return label === 'defect' ? await this.#missed(inspectionId, f, note, by) : await this.#teach(inspectionId, f, note, by, t0);
      } finally {
        f.image.release();
      }
    } finally {
      this.#reviewing.delete(inspectionId);
    }
  }

  async #missed(id: string, f: InspectionFrame, note: string | null, by: Principal): Promise<ReviewOutcome> {
    const evidence = await keepEvidence(this.#o.stateDirectory, f.recipe.id, 'missed', `${safeName(id)}${f.ext}`, f.bytes);
    const review = await this.#store({ inspectionId: id, action: 'review', label: 'defect', recipeId: f.recipe.id, fromVersion: f.recipe.version, toVersion: null, undoes: null, note, evidence }, by);
    return { review };
  }

  async #teach(id: string, f: InspectionFrame, note: string | null, by: Principal, t0: number): Promise<ReviewOutcome> {
    const recipeId = f.recipe.id;
    return this.#withRecipe(recipeId, `learning inspection ${id} for ${by.user}`, async () => {
      await this.#o.recipes.ensure(recipeId).catch((e: Error) => {
        throw invalid(`recipe ${recipeId} of inspection ${id} cannot be loaded: ${e.message}`);
      });
      const current = this.#o.recipes.recipe(recipeId)!;
      const scoped = scopedEngine(this.#o.engine(), { intraOpThreads: this.#o.intraOpThreads }, this.#o.logger);
      let next: Recipe;
      try {
        const added = await addReference(scoped.engine, current, { image: f.image, bytes: f.bytes, name: `${safeName(id)}${f.ext}` });
        next = { ...added.recipe, createdAt: new Date().toISOString() };
      } finally {
        await scoped.release();
      }
      await this.#activate(next, current.version);
      const ms = performance.now() - t0;
      const judged = await this.#o.recipes.inspector(recipeId).inspect(f.frame);
      const file = next.references[next.references.length - 1].file;
      let review: ReviewView;
      try {
        review = await this.#store({ inspectionId: id, action: 'review', label: 'good', recipeId, fromVersion: current.version, toVersion: next.version, undoes: null, note, evidence: file ? `${recipeId}/${file}` : null }, by);
      } catch (e) {
        // Not recorded, so not undoable: the change itself is taken back.
        await this.#revert(recipeId, current.version);
        throw e;
      }
      this.#o.logger.info({ inspection: id, recipe: recipeId, from: current.version, to: next.version, user: by.user, ms: Math.round(ms), rescored: judged.score }, 'review: false reject learnt');
      return {
        review,
        recipe: { id: recipeId, version: next.version, previousVersion: current.version },
        rescored: { pass: judged.pass, score: judged.score, threshold: judged.threshold },
        ms: Math.round(ms),
      };
    });
  }

  async undo(recipeId: string, by: Principal): Promise<UndoOutcome> {
    this.#checkId(recipeId);
    return this.#withRecipe(recipeId, `undo for ${by.user}`, async () => {
      const rows = withUndone(this.#o.record.recipeReviews(recipeId, 500));
      const last = rows.find((r) => r.action === 'review' && r.toVersion !== null && !r.undone);
      if (!last || last.fromVersion === null || last.toVersion === null) throw invalid(`recipe ${recipeId}: no review-made version to undo`);
      if (by.role !== 'engineer' && last.user !== by.user) {
        throw new AppError(ErrorCodes.FORBIDDEN, `the newest review of ${recipeId} was made by ${last.user}: only they or an engineer may undo it`);
      }
      const active = await this.#activeVersion(recipeId);
      if (active !== last.toVersion) {
        throw conflict(`recipe ${recipeId} is at version ${active} now, not ${last.toVersion} (made by the review of ${last.inspectionId}): it changed since, so that review cannot be undone`);
      }
      await this.#revert(recipeId, last.fromVersion);
      const review = await this.#store(
        { inspectionId: last.inspectionId, action: 'undo', label: last.label, recipeId, fromVersion: last.toVersion, toVersion: last.fromVersion, undoes: last.id, note: null, evidence: null },
        by,
      );
      return { recipe: { id: recipeId, version: last.fromVersion }, undone: { ...last, undone: true }, review };
    });
  }

  /**
   * "Relearn the boundary from the line" (engineer): frames the line judged good join the
   * recipe's held-out evidence (line-evidence.ts; `calibrate --rebuild --line` in the console, on the bank as it is).
   * After false rejects were marked on a recipe with few references this is what moves its
   * boundary (README "Learning from the line"). Passes of this recipe only; a new version,
   * undoable by selecting or restoring the old one like any other.
   */
  async relearn(recipeId: string, inspections: readonly string[], by: Principal): Promise<RelearnOutcome> {
    this.#checkId(recipeId);
    if (inspections.length === 0) throw invalid('relearn needs the ids of inspections the line passed');
    return this.#withRecipe(recipeId, `relearning the boundary for ${by.user}`, async () => {
      await this.#o.recipes.ensure(recipeId);
      const current = this.#o.recipes.recipe(recipeId)!;
      const frames: Mat[] = [];
      try {
        for (const id of inspections) {
          const f = await inspectionFrame(id, this.#o);
          frames.push(f.image);
          if (!f.pass || f.recipe.id !== recipeId) throw invalid(`inspection ${id} is not a pass of recipe ${recipeId}`);
        }
        const scoped = scopedEngine(this.#o.engine(), { intraOpThreads: this.#o.intraOpThreads }, this.#o.logger);
        let learnt;
        try {
          learnt = await withLineEvidence(scoped.engine, current, frames);
        } finally {
          await scoped.release();
        }
        const next = { ...learnt.recipe, createdAt: new Date().toISOString() };
        await this.#activate(next, current.version);
        await this.#o.audit.append({ user: by.user, role: by.role, action: 'relearn', inspection: null, recipe: recipeId, fromVersion: current.version, toVersion: next.version, frames: frames.length, thresholdBefore: current.boundary.threshold, thresholdAfter: next.boundary.threshold });
        this.#o.logger.info({ recipe: recipeId, from: current.version, to: next.version, frames: frames.length, threshold: next.boundary.threshold, user: by.user }, 'boundary relearnt from the line');
        return {
          recipe: { id: recipeId, version: next.version, previousVersion: current.version },
          threshold: { before: current.boundary.threshold, after: next.boundary.threshold },
          frames: frames.length,
          scores: learnt.scores,
        };
      } finally {
        for (const m of frames) m.release();
      }
    });
  }

  async list(): Promise<RecipeSummary[]> {
    const ids = await listRecipeIds(this.#o.directory);
    const out: RecipeSummary[] = [];
    for (const id of ids) {
      const r = await this.#meta(id).catch(() => undefined);
      if (!r) continue;
      out.push({
        id, version: r.version, createdAt: r.createdAt, references: r.references.length, bundle: r.bundle,
        cameras: this.#cameras(id), versions: (await listRecipeVersions(this.#o.directory, id)).length,
      });
    }
    return out;
  }

  async get(id: string): Promise<RecipeDetail> {
    this.#checkId(id);
    const r = await this.#meta(id);
    const c = r.calibration;
    const reviews = withUndone(this.#o.record.recipeReviews(id, 50));
    const undoable = reviews.find((x) => x.action === 'review' && x.toVersion !== null && !x.undone);
    return {
      id, version: r.version, createdAt: r.createdAt, bundle: r.bundle, cameras: this.#cameras(id),
      references: r.references.map((e) => ({ name: e.name, sha256: e.sha256, kept: e.file !== undefined })),
      boundary: r.boundary,
      input: r.settings.input,
      evidence: {
        heldOut: c.heldOut.length, perturbed: c.perturbed.length, synthetic: c.synthetic.length, added: c.added?.length ?? 0,
        missedDefects: await countEvidence(this.#o.stateDirectory, id, 'missed'),
      },
      versions: await listRecipeVersions(this.#o.directory, id),
      reviews,
      undoable: undoable && undoable.toVersion === r.version ? undoable : null,
    };
  }

  async reference(id: string, name: string): Promise<{ bytes: Uint8Array; type: string }> {
    this.#checkId(id);
    const r = await this.#meta(id);
    const e = r.references.find((x) => x.name === name || (x.file !== undefined && basename(x.file) === name));
    if (!e?.file) throw new AppError(ErrorCodes.NOT_FOUND, `recipe ${id} keeps no reference image "${name}"`);
    const bytes = await readFile(join(this.#o.directory, id, e.file)).catch(() => {
      throw new AppError(ErrorCodes.NOT_FOUND, `recipe ${id}: reference file ${e.file} is missing`);
    });
    return { bytes, type: MIME[sniffFormat(bytes) ?? ''] ?? 'application/octet-stream' };
  }

  async create(id: string, source: RecipeSource, options: { replace: boolean; unlabelled?: boolean; by: Principal }): Promise<RecipeDetail & { dropped?: string[] }> {
    this.#checkId(id);
    const exists = (await stat(join(this.#o.directory, id, 'recipe.json')).catch(() => undefined)) !== undefined;
    if (exists && !options.replace) throw new AppError(ErrorCodes.RECIPE_EXISTS, `recipe ${id} exists: send ?replace=true to write a new version of it (the current one is kept)`);
    if (this.#creating) throw new AppError(ErrorCodes.RECIPE_BUSY, `recipe ${this.#creating} is being calibrated; one at a time`);
    this.#creating = id;
    try {
      return await this.#withRecipe(id, `being calibrated for ${options.by.user}`, async () => {
        const t0 = performance.now();
        let refs = await this.#references(source);
        let recipe: Recipe;
        let dropped: string[] | undefined;
        const scoped = scopedEngine(this.#o.engine(), { intraOpThreads: this.#o.intraOpThreads }, this.#o.logger);
        try {
          if (options.unlabelled) {
            const sel = await selectNormalFrames(this.#o.cv(), refs.images, scoped.engine, defaultRecipeSettings(), 0);
            dropped = sel.dropped.map((i) => refs.references[i].name);
            refs = keptReferences(refs, sel);
          }
          recipe = await makeRecipe(this.#o.cv(), id, scoped.engine, refs, defaultRecipeSettings(), 0);
        } finally {
          await scoped.release();
          for (const m of refs.images) m.release();
        }
        const { previous } = await saveRecipeVersion(this.#o.directory, recipe);
        const { referenceImages: _bytes, ...kept } = recipe;
        await this.#o.recipes.replace(kept).catch(async (e: unknown) => {
          if (previous) await restoreRecipeVersion(this.#o.directory, id, previous).catch(() => undefined);
          throw e;
        });
        const ms = Math.round(performance.now() - t0);
        await this.#o.audit.append({ user: options.by.user, action: exists ? 'recipe-replace' : 'recipe-create', inspection: null, recipe: id, fromVersion: previous ?? null, toVersion: recipe.version, references: recipe.references.length, ...(dropped ? { dropped } : {}), ms });
        this.#o.logger.info({ recipe: id, version: recipe.version, previous, references: recipe.references.length, threshold: recipe.boundary.threshold, user: options.by.user, ms }, 'recipe made from the console');
        return { ...(await this.get(id)), ...(dropped ? { dropped } : {}) };
      });
    } finally {
      this.#creating = undefined;
    }
  }

  /** Decoded references (every one must decode: nothing is written otherwise). */
  async #references(source: RecipeSource): Promise<ReferenceSet> {
    const images: Mat[] = [];
    const bytes: Uint8Array[] = [];
    const references: { name: string; sha256: string }[] = [];
    try {
      if ('images' in source) {
        for (const img of source.images) {
          images.push(decodeImage(img.bytes, `upload ${img.name}`, this.#o.limits));
          bytes.push(img.bytes);
          references.push({ name: basename(img.name), sha256: sha256Hex(img.bytes) });
        }
      } else {
        for (const id of source.inspections) {
          const f = await inspectionFrame(id, this.#o).catch((e: unknown) => {
            if (e instanceof AppError && e.code === ErrorCodes.REVIEW_INVALID) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, e.message);
            throw e;
          });
          images.push(f.image);
          bytes.push(f.bytes);
          references.push({ name: `${safeName(id)}${f.ext}`, sha256: sha256Hex(f.bytes) });
        }
      }
    } catch (e) {
      for (const m of images) m.release();
      throw e;
    }
    return { images, bytes, references, skipped: [] };
  }

  /** Writes `next` as the active version (the old one kept), then swaps it into the book. */
  async #activate(next: Recipe, previousVersion: string): Promise<void> {
    await saveRecipeVersion(this.#o.directory, next);
    const { referenceImages: _bytes, ...kept } = next;
    try {
      await this.#o.recipes.replace(kept);
    } catch (e) {
      await this.#revert(next.id, previousVersion).catch(() => undefined);
      throw e;
    }
  }

  /** Makes a kept version active again, on disk and in the book. */
  async #revert(recipeId: string, version: string): Promise<void> {
    try {
      const restored = await restoreRecipeVersion(this.#o.directory, recipeId, version);
      await this.#o.recipes.replace(restored);
    } catch (e) {
      this.#o.logger.error({ err: toError(e), recipe: recipeId, version }, 'could not restore a recipe version');
      throw e;
    }
  }

  async #store(row: Omit<ReviewView, 'id' | 'at' | 'user' | 'undone'>, by: Principal): Promise<ReviewView> {
    const at = Date.now();
    const full = { ...row, at, user: by.user };
    const id = await this.#o.record.addReview(full);
    await this.#o.audit
      .append({ user: by.user, role: by.role, action: row.action, label: row.label, inspection: row.inspectionId, recipe: row.recipeId, fromVersion: row.fromVersion, toVersion: row.toVersion, reviewId: id, ...(row.undoes !== null ? { undoes: row.undoes } : {}), ...(row.note ? { note: row.note } : {}) }, at)
      .catch((e: unknown) => this.#o.logger.error({ err: toError(e), path: this.#o.audit.path }, 'audit log not written (the record has the review)'));
    return { ...full, id, undone: false };
  }

  async #withRecipe<T>(id: string, what: string, fn: () => Promise<T>): Promise<T> {
    const doing = this.#busy.get(id);
    if (doing) throw new AppError(ErrorCodes.RECIPE_BUSY, `recipe ${id} is being changed (${doing}); try again when that is done`);
    this.#busy.set(id, what);
    try {
      return await fn();
    } finally {
      this.#busy.delete(id);
    }
  }

  async #meta(id: string): Promise<RecipeMeta> {
    const loaded = this.#o.recipes.recipe(id);
    if (loaded) return loaded;
    try {
      return JSON.parse(await readFile(join(this.#o.directory, id, 'recipe.json'), 'utf8')) as RecipeMeta;
    } catch (e) {
      throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `no recipe ${id} in ${this.#o.directory}`, { cause: e });
    }
  }

  async #activeVersion(id: string): Promise<string> {
    return (await this.#meta(id)).version;
  }

  #cameras(recipeId: string): string[] {
    return this.#o.control.cameras.filter((c) => c.snapshot().recipe.id === recipeId).map((c) => c.id);
  }

  #checkId(id: string): void {
    if (!RECIPE_ID.test(id)) throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `no recipe "${id}" (ids match ${RECIPE_ID})`);
  }
}
