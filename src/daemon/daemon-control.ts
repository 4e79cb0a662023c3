/**
 * The DaemonControl the industrial outputs drive (src/publish/control.ts), over the running
 * pipelines and recipe book. It owns each camera's active recipe, so a PLC or SCADA can
 * switch recipes without a restart, and it refuses a second trigger while one is served.
 */
import { AppError, ErrorCodes } from '../errors.js';
import type { Verdict } from '../judge/verdict.js';
import type { CameraPipeline } from '../pipeline/camera-pipeline.js';
import type { Inspector } from '../fewshot/inspector.js';
import type { CameraControl, CameraHealth, CameraSnapshot, DaemonControl } from '../publish/control.js';
import { RECIPE_ID } from '../fewshot/recipe/recipe.js';
import type { RecipeBook } from '../fewshot/recipe/recipe-book.js';

export class CameraController implements CameraControl {
  #recipeId: string;
  #busy = false;

  constructor(
    readonly id: string,
    private readonly pipeline: () => CameraPipeline,
    private readonly recipes: RecipeBook,
    recipeId: string,
    private readonly model: () => { id: string; version: string },
  ) {
    this.#recipeId = recipeId;
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
      model: this.model(),
      counters: { inspected: s.counters.inspected, passed: s.counters.passed, failed: s.counters.failed, dropped: s.counters.dropped, errors: s.counters.errors },
      lastVerdictAt: s.lastVerdict?.decidedAt ?? null,
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
  readonly #listeners = new Set<(cameraId: string, health: CameraHealth) => void>();

  constructor(readonly cameras: readonly CameraController[]) {
    this.#byId = new Map(cameras.map((c) => [c.id, c]));
  }

  camera(id: string): CameraController | undefined {
    return this.#byId.get(id);
  }

  onHealth(listener: (cameraId: string, health: CameraHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called by the cameras' onState hook. A throwing listener never reaches the camera. */
  emitHealth(cameraId: string, health: CameraHealth): void {
    for (const l of this.#listeners) {
      try {
        l(cameraId, health);
      } catch {
        // Outputs log their own failures; a camera must never stop because of one.
      }
    }
  }
}
