/**
 * One inspection: frame → preprocess + encoder → anomaly map → judge → Verdict.
 * Shared engine (one loaded bundle for every camera), one scorer per recipe.
 */
import type { Frame } from '../capture/frame.js';
import { AppError, ErrorCodes } from '../errors.js';
import type { Engine } from './engine.js';
import type { Scorer } from './scorer.js';
import { judge } from '../judge/judge.js';
import type { Verdict } from '../judge/verdict.js';
import { scorerFor } from './recipe/calibrate.js';
import type { Recipe } from './recipe/recipe.js';
import type { AnomalyMap, CropRect } from '../judge/anomaly-map.js';

export interface InspectorOptions {
  /** Attach the mask PNG to failed verdicts. */
  readonly masks: boolean;
}

/** A verdict with the anomaly map it came from (for overlays: `inspect` CLI, web page). */
export interface Inspection {
  readonly verdict: Verdict;
  readonly map: AnomalyMap;
  /** The frame rectangle the map covers. */
  readonly crop: CropRect;
}

export class Inspector {
  /** Inspections running now (release() waits for them). */
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #released = false;

  private constructor(
    private readonly engine: Engine,
    readonly recipe: Recipe,
    private readonly scorer: Scorer,
    private readonly options: InspectorOptions,
  ) {}

  static async open(engine: Engine, recipe: Recipe, options: InspectorOptions): Promise<Inspector> {
    const b = engine.bundle.manifest;
    if (recipe.bundle.id !== b.id || recipe.bundle.version !== b.version) {
      throw new AppError(
        ErrorCodes.RECIPE_BUNDLE_MISMATCH,
        `recipe ${recipe.id} was calibrated with bundle ${recipe.bundle.id}@${recipe.bundle.version}, the daemon runs ${b.id}@${b.version}: recalibrate it`,
      );
    }
    const missing = recipe.bank.filter((t) => !engine.taps.some((e) => e.output === t.output));
    if (missing.length > 0) {
      throw new AppError(
        ErrorCodes.RECIPE_BUNDLE_MISMATCH,
        `recipe ${recipe.id} scores taps ${missing.map((t) => t.name).join(', ')} that the engine does not encode (${engine.taps.map((t) => t.name).join(', ')})`,
      );
    }
    engine.encoder.validateSize(recipe.settings.input);
    return new Inspector(engine, recipe, await scorerFor(recipe.bank, recipe.map, engine.openSession), options);
  }

  async inspect(frame: Frame): Promise<Verdict> {
    return (await this.inspectWithMap(frame)).verdict;
  }

  /**
   * Releases the scorer session once the inspections running on it are done (a recipe
   * version swapped out at run time: the frame in flight finishes with the version it started
   * with). Further inspections are refused.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.scorer.release().catch(() => undefined);
  }

  async inspectWithMap(frame: Frame): Promise<Inspection> {
    if (this.#released) throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${this.recipe.id}@${this.recipe.version} was replaced; inspect with the current version`);
    this.#inFlight++;
    try {
      return await this.#inspect(frame);
    } finally {
      if (--this.#inFlight === 0) this.#idle?.();
    }
  }

  async #inspect(frame: Frame): Promise<Inspection> {
    const t0 = performance.now();
    const enc = await this.engine.encoder.encode(frame, this.recipe.settings.input);
    const t1 = performance.now();
    const map = await this.scorer.run(enc.taps);
    const t2 = performance.now();
    const j = judge(map, enc.crop, frame, { boundary: this.recipe.boundary, score: this.recipe.settings.score, masks: this.options.masks });
    const t3 = performance.now();
    const b = this.engine.bundle.manifest;
    const verdict: Verdict = {
      id: `${frame.cameraId}-${frame.capturedAt}-${frame.seq}`,
      cameraId: frame.cameraId,
      seq: frame.seq,
      capturedAt: frame.capturedAt,
      decidedAt: Date.now(),
      pass: j.pass,
      confidence: j.confidence,
      score: j.score,
      threshold: j.threshold,
      locations: j.locations,
      ...(j.maskPng ? { maskPng: j.maskPng } : {}),
      recipe: { id: this.recipe.id, version: this.recipe.version },
      model: { id: b.id, version: b.version },
      judge: { pass: j.pass, score: j.score, threshold: j.threshold, confidence: j.confidence, model: { id: b.id, version: b.version } },
      timings: {
        preprocessMs: enc.preprocessMs,
        encoderMs: enc.encoderMs,
        mapMs: t2 - t1,
        judgeMs: t3 - t2,
        totalMs: t3 - t0,
      },
      frame: { width: frame.width, height: frame.height, origin: frame.origin },
      map: { width: map.width, height: map.height, data: map.data, crop: enc.crop },
    };
    return { verdict, map, crop: enc.crop };
  }
}
