/**
 * The technician's console in the composition root (issue 10): the drift watch and the live
 * cache (both verdict sinks), and the HTTP routes of the page — access (sign-in, CSRF, rate
 * limits), live view + events, history, numbers and the static page — built from the daemon's
 * components. Kept apart from app.ts so the wiring of the page reads in one place.
 */
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { InspectionRecord } from '../archive/inspection-record.js';
import type { Config } from '../config/index.js';
import { packageRoot, type SecretEnvironment } from '../config/index.js';
import type { RecipeBook } from '../fewshot/recipe/recipe-book.js';
import { Access } from '../http/access.js';
import type { HttpRoutes } from '../http/http-server.js';
import { inspectionRoutes } from '../http/inspection-routes.js';
import { LiveCache } from '../http/live-cache.js';
import { liveRoutes, type CameraInfo } from '../http/live-routes.js';
import { staticRoutes, webRoot } from '../http/static-routes.js';
import { statsRoutes } from '../http/stats-routes.js';
import type { Logger } from '../log.js';
import type { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { DriftWatch, type DriftRecipe } from '../pipeline/drift-watch.js';
import type { CameraSnapshot } from '../publish/control.js';
import { UserDirectory } from '../publish/user-directory.js';
import type { DaemonController } from './daemon-control.js';
import type { Cv } from '../capture/opencv.js';
import type { Engine } from '../fewshot/engine.js';
import { recipeRoutes } from '../http/recipe-routes.js';
import { AuditLog } from './audit-log.js';
import { ConsoleRecipeDesk } from './recipe-desk.js';

/**
 * A loaded recipe as the drift rule and the numbers page see it. The reference scores are the
 * normal evidence its boundary was derived from (src/judge/boundary.ts): the held-out scores
 * when there are ≥ 2, else the perturbations'. Not their union: perturbations (shifts,
 * rotations) score well above real part-to-part variation — on the default simulated recipe
 * their union's median (0.119) lies above the boundary (0.108), which leaves no margin to
 * measure drift against.
 */
export function driftRecipe(recipes: RecipeBook, id: string): DriftRecipe | undefined {
  const r = recipes.recipe(id);
  if (!r) return undefined;
  const c = r.calibration;
  return { version: r.version, boundary: r.boundary.threshold, normalScores: c.heldOut.length >= 2 ? c.heldOut : c.perturbed };
}

export function createDriftWatch(recipes: RecipeBook, record: InspectionRecord, logger: Logger): DriftWatch {
  return new DriftWatch({
    recipe: (id) => driftRecipe(recipes, id),
    history: (id, version, limit) => record.passScores(id, limit, version).scores,
    logger,
  });
}

/** The camera snapshot's `drift` (OPC UA DriftState, MQTT state). */
export function snapshotDrift(drift: DriftWatch, recipeId: string): CameraSnapshot['drift'] {
  const r = drift.report(recipeId);
  return r ? { state: r.state, margin: r.margin, passes: r.passes } : undefined;
}

export function createLiveCache(config: Config, record: InspectionRecord, logger: Logger): LiveCache {
  const live = new LiveCache({ perCamera: config.http.liveFrames, logger });
  record.onAppend((seq, verdict) => live.noteSeq(seq, verdict));
  return live;
}

/** Free and total bytes of the file system holding the record (statfs; null if unreadable). */
export function diskOf(directory: string): { readonly freeBytes: number; readonly totalBytes: number } | null {
  try {
    const s = statfsSync(directory);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

export interface ConsoleRoutesOptions {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly record: InspectionRecord;
  readonly recipes: RecipeBook;
  readonly pipelines: readonly CameraPipeline[];
  readonly control: DaemonController;
  readonly live: LiveCache;
  readonly drift: DriftWatch;
  /** The running engine and OpenCV: the review loop and new recipes use them. */
  readonly engine: () => Engine;
  readonly cv: () => Cv;
  readonly logger: (component: string) => Logger;
}

export interface ConsoleRoutes {
  readonly access: Access;
  /** Access first: its hooks guard every route after it. */
  readonly first: HttpRoutes;
  readonly rest: HttpRoutes[];
}

export function consoleRoutes(o: ConsoleRoutesOptions): ConsoleRoutes {
  const { config } = o;
  const secrets: SecretEnvironment = { env: o.env };
  const access = new Access({
    host: config.http.host,
    tls: config.http.tls !== undefined,
    users: new UserDirectory(config.opcua.users, secrets),
    sessionIdleMs: config.http.sessionIdleMinutes * 60_000,
    signInAttemptsPerMinute: config.http.signInAttemptsPerMinute,
    questionsPerMinute: config.http.questionsPerMinute,
    logger: o.logger('http-access'),
  });
  const cameras = (): CameraInfo[] =>
    o.pipelines.map((p) => {
      const s = p.status();
      const recipe = o.control.camera(p.cameraId)?.snapshot().recipe ?? { id: '?', version: '' };
      return {
        id: p.cameraId,
        state: s.camera.state,
        trigger: { mode: s.trigger.mode, fps: s.trigger.fps },
        recipe,
        counters: s.counters,
        timings: { p50TotalMs: s.timings.p50TotalMs, p99TotalMs: s.timings.p99TotalMs },
        lastError: s.lastError,
      };
    });
  const desk = new ConsoleRecipeDesk({
    directory: config.recipes.directory,
    stateDirectory: config.stateDirectory,
    recipes: o.recipes,
    engine: o.engine,
    cv: o.cv,
    record: o.record,
    live: o.live,
    control: o.control,
    limits: config.images,
    intraOpThreads: config.inference.intraOpThreads,
    audit: new AuditLog(join(config.stateDirectory, 'audit.log')),
    logger: o.logger('recipe-desk'),
  });
  const activeRecipes = () => [...new Set(o.control.cameras.map((c) => c.snapshot().recipe.id))];
  return {
    access,
    first: access.routes(),
    rest: [
      liveRoutes({ cameras, control: o.control, live: o.live, drift: o.drift, logger: o.logger('http-live') }),
      inspectionRoutes({ record: o.record, live: o.live, reviews: (id) => desk.reviews(id) }),
      recipeRoutes({ desk, limits: config.images, maxUploadBytes: config.http.maxUploadBytes, maxUploadImages: config.http.maxUploadImages }),
      statsRoutes({ record: o.record, recipe: (id) => driftRecipe(o.recipes, id), activeRecipes, drift: o.drift, stateDirectory: config.stateDirectory }),
      staticRoutes({ root: webRoot(packageRoot()) }),
    ],
  };
}
