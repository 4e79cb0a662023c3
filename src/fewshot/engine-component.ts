/**
 * The inference engine as a lifecycle component: verifies and loads the bundle (required
 * part: E_BUNDLE_* / E_MODEL_LOAD fail the start), opens the encoder on the first execution
 * provider that loads, and warms it up before READY (DESIGN principle 4; Frigate: a slow
 * first inference would otherwise trip the watchdog on the first real frame).
 */
import type { Cv } from '../capture/opencv.js';
import type { Frame } from '../capture/frame.js';
import type { InferenceConfig } from '../config/index.js';
import { AppError, ErrorCodes } from '../errors.js';
import { openEngine, type Engine } from './engine.js';
import type { InputSize } from './encoder.js';
import type { Logger } from '../log.js';
import type { Component } from '../component.js';

/** What the engine must provide for the recipes it will serve (see recipe-book.ts). */
export interface EngineNeeds {
  /** Tap names to encode; undefined = every tap of the bundle. */
  readonly taps?: readonly string[];
  /** Input sizes to warm up at (one warm-up series per size). */
  readonly sizes: readonly InputSize[];
}

export interface EngineComponentOptions {
  readonly config: InferenceConfig;
  readonly cv: () => Cv;
  /** Asked at start: which taps and input sizes the recipes need. */
  readonly needs: () => Promise<EngineNeeds>;
  readonly logger: Logger;
}

/** An all-black BGR frame: what warm-up encodes (contents do not matter, shapes do). */
export function blankFrame(size: InputSize, cameraId = 'warmup'): Frame {
  return {
    cameraId, seq: 0, capturedAt: Date.now(), width: size.width, height: size.height, channels: 3,
    data: Buffer.alloc(size.width * size.height * 3), origin: 'warmup',
  };
}

export class EngineComponent implements Component {
  readonly name = 'engine';
  readonly #opts: EngineComponentOptions;
  #engine: Engine | undefined;
  #warmupMs = 0;

  constructor(options: EngineComponentOptions) {
    this.#opts = options;
  }

  /** The loaded engine; only valid after start(). */
  get engine(): Engine {
    if (!this.#engine) throw new AppError(ErrorCodes.MODEL_LOAD, 'the inference engine is not loaded');
    return this.#engine;
  }

  get loaded(): boolean {
    return this.#engine !== undefined;
  }

  /** The loaded bundle's id and version, for verdict consumers; '' before start (or after a failed one). */
  model(): { id: string; version: string } {
    const m = this.#engine?.bundle.manifest;
    return { id: m?.id ?? '', version: m?.version ?? '' };
  }

  get warmupMs(): number {
    return this.#warmupMs;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { config, logger } = this.#opts;
    const needs = await this.#opts.needs();
    const engine = await openEngine(
      this.#opts.cv(),
      {
        bundleDir: config.bundle,
        executionProviders: config.executionProviders,
        intraOpThreads: config.intraOpThreads,
        ...(needs.taps ? { taps: needs.taps } : {}),
      },
      logger,
    );
    try {
      const t0 = performance.now();
      for (const size of needs.sizes) {
        try {
          engine.encoder.validateSize(size);
        } catch (e) {
          // The recipe that wants this size fails in the recipes step, with its own name.
          logger.warn({ size, err: (e as Error).message }, 'warm-up size not valid for this bundle; skipped');
          continue;
        }
        const frame = blankFrame(size);
        for (let i = 0; i < config.warmupRuns; i++) {
          signal.throwIfAborted();
          await engine.encoder.encode(frame, size);
        }
      }
      this.#warmupMs = performance.now() - t0;
    } catch (e) {
      await engine.close().catch(() => undefined);
      throw e;
    }
    this.#engine = engine;
    const m = engine.bundle.manifest;
    logger.info(
      { bundle: `${m.id}@${m.version}`, provider: engine.provider, taps: engine.taps.map((t) => t.name), warmupRuns: config.warmupRuns, sizes: needs.sizes, warmupMs: Math.round(this.#warmupMs) },
      'inference engine ready',
    );
  }

  async stop(): Promise<void> {
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.close();
  }
}
