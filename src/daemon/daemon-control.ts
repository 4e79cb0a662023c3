/**
 * The DaemonControl the industrial outputs drive (src/publish/control.ts), over the running
 * pipelines and recipe book. It owns each camera's active recipe, so a PLC or SCADA can
 * switch recipes without a restart, and it refuses a second trigger while one is served.
 * It is also what a camera's pipeline inspects with: the active recipe's Inspector, then the
 * optional decider (the AnomalyGPT assistant, assistant.mode) that may hand the decision to
 * the LLM.
 */
import { RECIPE_ID } from '../config/index.js';
import { AppError, ErrorCodes } from '../errors.js';
import type { Verdict } from '../judge/verdict.js';
import type { Frame } from '../capture/frame.js';
import type { CameraPipeline, FrameInspector } from '../pipeline/camera-pipeline.js';
import type { Inspector } from '../fewshot/inspector.js';
import type { CameraControl, CameraSnapshot, DaemonControl } from '../publish/control.js';
import type { RecipeBook } from '../fewshot/recipe/recipe-book.js';
import type { CameraState } from '../capture/camera.js';
import { checkPixelLimit, type ImageLimits } from '../capture/image-limits.js';

/** Who may overrule the judge after it decided (the assistant's LLM policy). */
export interface VerdictDecider {
  decide(frame: Frame, verdict: Verdict): Promise<Verdict>;
}

export interface CameraControllerOptions {
  readonly id: string;
  /** The camera's pipeline (built after its controller, hence a getter). */
  readonly pipeline: () => CameraPipeline;
  readonly recipes: RecipeBook;
  /** The configured recipe, active until a PLC, SCADA or the page selects another. */
  readonly recipeId: string;
  /** The loaded bundle's id and version ('' before the engine started). */
  readonly model: () => { id: string; version: string };
  /** images.maxPixels: live frames above it are refused before inspection (E_IMAGE_TOO_LARGE). */
  readonly imageLimits: ImageLimits;
  readonly decider?: VerdictDecider;
  /** The drift watch's state of a recipe (src/pipeline/drift-watch.ts). */
  readonly drift?: (recipeId: string) => CameraSnapshot['drift'];
}

export class CameraController implements CameraControl, FrameInspector {
  readonly id: string;
  readonly #opts: CameraControllerOptions;
  #recipeId: string;
  #busy = false;

  constructor(options: CameraControllerOptions) {
    this.id = options.id;
    this.#opts = options;
    this.#recipeId = options.recipeId;
  }

  private get recipes(): RecipeBook {
    return this.#opts.recipes;
  }

  private pipeline(): CameraPipeline {
    return this.#opts.pipeline();
  }

  /** The pipeline's inspection: the active recipe's judge, then the decider if any. */
  async inspect(frame: Frame): Promise<Verdict> {
    // Files were checked on their header already; live frames (device, URL) are checked
    // here, before any work is spent on them. Refusals count as errors by code.
    checkPixelLimit(frame.width, frame.height, this.#opts.imageLimits, frame.origin, 'frame');
    const verdict = await this.inspector().inspect(frame);
    return this.#opts.decider ? this.#opts.decider.decide(frame, verdict) : verdict;
  }

  /** The Inspector of the active recipe (what the pipeline inspects with). */
  inspector(): Inspector {
    return this.recipes.inspector(this.#recipeId);
  }

  snapshot(): CameraSnapshot {
    const s = this.pipeline().status();
    const recipe = this.recipes.recipe(this.#recipeId);
    return {
      id: this.id,
      health: s.camera.state,
      triggerMode: s.trigger.mode,
      busy: this.#busy,
      recipe: { id: this.#recipeId, version: recipe?.version ?? '' },
      model: this.#opts.model(),
      counters: { inspected: s.counters.inspected, passed: s.counters.passed, failed: s.counters.failed, dropped: s.counters.dropped, errors: s.counters.errors },
      lastVerdictAt: s.lastVerdict?.decidedAt ?? null,
      ...(this.#opts.drift ? { drift: this.#opts.drift(this.#recipeId) } : {}),
    };
  }

  async trigger(): Promise<Verdict> {
    if (this.#busy) throw new AppError(ErrorCodes.CAMERA_BUSY, `camera ${this.id} is busy with a triggered inspection`);
    this.#busy = true;
    try {
      return await this.pipeline().trigger();
    } finally {
      this.#busy = false;
    }
  }

  async selectRecipe(recipeId: string): Promise<void> {
    if (!RECIPE_ID.test(recipeId)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe id "${recipeId}" must match ${RECIPE_ID}`);
    await this.recipes.ensure(recipeId);
    this.#recipeId = recipeId;
  }
}

export class DaemonController implements DaemonControl {
  readonly #byId: Map<string, CameraController>;
  readonly #listeners = new Set<(cameraId: string, health: CameraState) => void>();

  constructor(readonly cameras: readonly CameraController[]) {
    this.#byId = new Map(cameras.map((c) => [c.id, c]));
  }

  camera(id: string): CameraController | undefined {
    return this.#byId.get(id);
  }

  onHealth(listener: (cameraId: string, health: CameraState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called by the cameras' onState hook. A throwing listener never reaches the camera. */
  emitHealth(cameraId: string, health: CameraState): void {
    for (const l of this.#listeners) {
      try {
        l(cameraId, health);
      } catch {
        // Outputs log their own failures; a camera must never stop because of one.
      }
    }
  }
}
