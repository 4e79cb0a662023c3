/**
 * The straight pipeline of one camera (DESIGN principles 3 and 10): Camera → latest-frame
 * slot → inspector → inspection record → sinks. One frame in flight: while it is inspected,
 * newer frames wait in the slot and replace each other (counted as dropped). A non-live source
 * (folder, file, sim) is read only when the previous frame has been inspected, so it never
 * drops; a live one (device, URL) does when inference is slower than the camera.
 *
 * No verdict is published before it is durable: each goes to the record first, and only then
 * to the sinks (and to a waiting trigger). The record write of frame n overlaps the inspection
 * of frame n + 1, but frame n + 1's verdict waits for frame n's write: when the record falls
 * behind, the pipeline waits and frames are dropped before inspection (counted), never
 * verdicts after it.
 *
 * Inference and record errors on a frame (E_FRAME_INVALID, E_ARCHIVE_IO, …) are counted,
 * logged rate-limited and skipped: one bad frame never stops a line. stop() waits for the
 * frame in flight, its record write and its sinks.
 */
import type { Frame } from '../capture/frame.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';
import { LatestFrameSlot } from './latest-frame-slot.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import { RollingWindow } from '../util/rolling-window.js';
import type {
  FrameInspector, LastVerdict, PipelineActivity, PipelineCamera, PipelineCounters, PipelineStatus, VerdictPublisher, VerdictRecord,
} from './pipeline-types.js';
import type { CameraTrigger } from '../capture/camera.js';

export type * from './pipeline-types.js';

export interface CameraPipelineOptions {
  readonly cameraId: string;
  readonly trigger: CameraTrigger;
  /** Builds the camera with the pipeline's frame consumer (called once, in the constructor). */
  readonly camera: (onFrame: (frame: Frame) => Promise<void>) => PipelineCamera;
  readonly inspector: FrameInspector;
  /** Where a verdict is made durable before it is published. */
  readonly record: VerdictRecord;
  readonly sinks: VerdictPublisher;
  readonly logger: Logger;
  /** Called after every frame whose inspection completed (verdict or error), e.g. for metrics. */
  readonly onProgress?: () => void;
  /** Frames in the p50/p99 window. Default 256. */
  readonly timingWindow?: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T | PromiseLike<T>): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T | PromiseLike<T>) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A frame on its way through the pipeline. */
interface Entry {
  readonly frame: Frame;
  /** The verdict of this frame, or of the frame that replaced it in the slot (trigger callers). */
  readonly outcome: Deferred<Verdict>;
  /** Settles when the frame was inspected or dropped (camera backpressure). */
  readonly done: Deferred<void>;
}

export class CameraPipeline {
  readonly cameraId: string;
  readonly #opts: CameraPipelineOptions;
  readonly #camera: PipelineCamera;
  readonly #log: Logger;
  readonly #errorLog: RateLimitedLog;
  readonly #slot = new LatestFrameSlot<Entry>();
  readonly #entries = new WeakMap<Frame, Entry>();
  readonly #publishing = new Set<Promise<void>>();
  readonly #timings: RollingWindow;
  readonly #counts = { frames: 0, inspected: 0, passed: 0, failed: 0, errors: 0 };
  readonly #errorsByCode: Record<string, number> = {};
  #completed = 0;
  #inFlight = false;
  #triggersPending = 0;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  /** The previous verdict's record write (and publish): the next verdict waits for it. */
  #recording: Promise<void> = Promise.resolve();
  #lastVerdict: LastVerdict | null = null;
  #lastError: PipelineStatus['lastError'] = null;

  constructor(options: CameraPipelineOptions) {
    this.cameraId = options.cameraId;
    this.#opts = options;
    this.#log = options.logger;
    this.#errorLog = new RateLimitedLog(options.logger);
    this.#timings = new RollingWindow(options.timingWindow ?? 256);
    this.#camera = options.camera((frame) => this.accept(frame));
  }

  /** Starts the camera; resolves once its first open attempt settled (either way). */
  start(): Promise<void> {
    return this.#camera.start();
  }

  /**
   * Graceful: stops the camera, lets the frame in flight finish and reach the sinks (so it is
   * archived), drops what waits in the slot. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      await this.#camera.stop();
      await this.#loop;
      await this.#recording;
      const waiting = this.#slot.clear();
      if (waiting) {
        waiting.outcome.reject(new AppError(ErrorCodes.CAMERA_READ, `camera ${this.cameraId} stopped before the frame was inspected`));
        waiting.done.resolve();
      }
      while (this.#publishing.size > 0) await Promise.all([...this.#publishing]);
    })();
    return this.#stopped;
  }

  /**
   * The frame consumer handed to the Camera. Resolves when this frame has been inspected or
   * dropped; the Camera awaits it for non-live sources (backpressure), ignores it for live ones.
   */
  accept(frame: Frame): Promise<void> {
    this.#counts.frames++;
    const entry: Entry = { frame, outcome: deferred(), done: deferred() };
    // Nobody may ever ask for this frame's verdict: keep an unobserved rejection quiet.
    entry.outcome.promise.catch(() => undefined);
    this.#entries.set(frame, entry);
    if (this.#loop === undefined && !this.#stopping) {
      this.#loop = this.#run(entry);
    } else {
      const replaced = this.#slot.offer(entry);
      if (replaced) {
        // A trigger waiting on the replaced frame gets the verdict of the newer one.
        replaced.outcome.resolve(entry.outcome.promise);
        replaced.done.resolve();
      }
    }
    return entry.done.promise;
  }

  /**
   * Inspect on demand: the internal API that OPC UA / MQTT / HTTP triggers call. An on-demand
   * camera captures one frame for it; a free-running one answers with the next frame it
   * delivers. Rejects if the camera is not streaming or the inspection fails.
   */
  async trigger(): Promise<Verdict> {
    this.#triggersPending++;
    try {
      const frame = await this.#camera.trigger();
      const entry = this.#entries.get(frame);
      if (!entry) throw new AppError(ErrorCodes.CAMERA_READ, `camera ${this.cameraId}: triggered frame never reached the pipeline`);
      return await entry.outcome.promise;
    } finally {
      this.#triggersPending--;
    }
  }

  get activity(): PipelineActivity {
    return {
      completed: this.#completed,
      inFlight: this.#inFlight,
      triggersPending: this.#triggersPending,
      cameraState: this.#camera.state,
      mode: this.#opts.trigger.mode,
      fps: this.#opts.trigger.fps,
    };
  }

  get counters(): PipelineCounters {
    const c = this.#counts;
    return {
      frames: c.frames, inspected: c.inspected, passed: c.passed, failed: c.failed,
      dropped: this.#slot.dropped, errors: c.errors, errorsByCode: { ...this.#errorsByCode },
    };
  }

  status(): PipelineStatus {
    return {
      cameraId: this.cameraId,
      trigger: { mode: this.#opts.trigger.mode, fps: this.#opts.trigger.fps },
      camera: { state: this.#camera.state, stats: this.#camera.stats },
      counters: this.counters,
      inFlight: this.#inFlight,
      timings: { window: this.#timings.size, p50TotalMs: this.#timings.percentile(50), p99TotalMs: this.#timings.percentile(99) },
      lastVerdict: this.#lastVerdict,
      lastError: this.#lastError,
    };
  }

  async #run(first: Entry): Promise<void> {
    let entry: Entry | undefined = first;
    try {
      while (entry) {
        await this.#process(entry);
        entry = this.#stopping ? undefined : this.#slot.take();
      }
    } finally {
      this.#loop = undefined;
    }
  }

  async #process(entry: Entry): Promise<void> {
    const { frame } = entry;
    this.#inFlight = true;
    try {
      const verdict = await this.#opts.inspector.inspect(frame);
      // Backpressure: the previous verdict must be durable before this one is written.
      await this.#recording;
      this.#recording = this.#recordAndPublish(entry, verdict);
    } catch (e) {
      this.#failed(entry, e, 'inspection failed; frame skipped');
    } finally {
      this.#inFlight = false;
      this.#completed++;
      entry.done.resolve();
      try {
        this.#opts.onProgress?.();
      } catch (e) {
        this.#log.warn({ err: toError(e) }, 'progress listener threw');
      }
    }
  }

  async #recordAndPublish(entry: Entry, verdict: Verdict): Promise<void> {
    try {
      await this.#opts.record.append(verdict, entry.frame);
    } catch (e) {
      this.#failed(entry, e, 'verdict not recorded; not published');
      return;
    }
    this.#count(verdict);
    const published = this.#opts.sinks.publish(verdict, entry.frame);
    this.#publishing.add(published);
    void published.finally(() => this.#publishing.delete(published));
    entry.outcome.resolve(verdict);
  }

  #failed(entry: Entry, e: unknown, message: string): void {
    const err = toError(e);
    const code = (err as { code?: unknown }).code;
    this.#counts.errors++;
    const key = typeof code === 'string' ? code : ErrorCodes.UNEXPECTED;
    this.#errorsByCode[key] = (this.#errorsByCode[key] ?? 0) + 1;
    this.#lastError = { ...(typeof code === 'string' ? { code } : {}), message: err.message, at: Date.now() };
    this.#errorLog.log('warn', { camera: this.cameraId, seq: entry.frame.seq, origin: entry.frame.origin, code, err, errors: this.#counts.errors }, message);
    entry.outcome.reject(err);
  }

  #count(v: Verdict): void {
    const c = this.#counts;
    c.inspected++;
    if (v.pass) c.passed++;
    else c.failed++;
    this.#timings.push(v.timings.totalMs);
    this.#lastVerdict = {
      id: v.id, seq: v.seq, pass: v.pass, score: v.score, threshold: v.threshold, confidence: v.confidence,
      locations: v.locations.map((l) => l.grid), decidedAt: v.decidedAt, totalMs: v.timings.totalMs,
    };
  }
}
