/**
 * The Camera supervisor: owns one FrameSource at a time, paces or drains it, delivers frames
 * to one consumer and reopens the source with exponential backoff when it fails
 * (DESIGN principle 7: recoverable parts retry with backoff and report state).
 *
 * Delivery policy (DESIGN principle 3, newest frame wins):
 * - live sources (device, URL) are read continuously so the driver's buffer never holds
 *   stale frames; the consumer is never waited for — it keeps the newest and counts drops;
 * - non-live sources (file, folder, sim) are read only as fast as `fps` allows and never
 *   faster than the consumer: a Promise returned by onFrame is awaited before the next read.
 */
import type { CameraConfig, TriggerConfig, TriggerMode } from '../config/index.js';
import { AppError, ErrorCodes, isAppError, toError, type ErrorCode } from '../errors.js';
import { backoffDelay, StopSignal, systemTimers, yieldToEventLoop, type CameraTimers } from './camera-timing.js';
import type { Frame } from './frame.js';
import type { CaptureLogger, FrameSource } from './frame-source.js';
import { TriggerQueue } from './trigger-queue.js';

/** The camera's state; also its health as the outputs show it (OPC UA CameraState, MQTT state). */
export type CameraState = 'starting' | 'streaming' | 'reconnecting' | 'ended' | 'stopped';

/** free-run: frames at `fps` (0 = as fast as source/consumer allow); on-demand: one per trigger() (fps 0). */
export interface CameraTrigger {
  readonly mode: TriggerMode;
  readonly fps: number;
}

/** The trigger config as the camera runs it: on-demand has no rate. */
export function cameraTrigger(t: TriggerConfig): CameraTrigger {
  return { mode: t.mode, fps: t.mode === 'free-run' ? t.fps : 0 };
}

/** What a Camera needs of its camera config (the trigger resolved by cameraTrigger). */
export type CameraSettings = Pick<CameraConfig, 'id' | 'reconnect'> & { readonly trigger: CameraTrigger };

export interface CameraDeps {
  readonly logger: CaptureLogger;
  /** Called for the first open and again for every reopen: a fresh source each time. */
  readonly createSource: () => FrameSource;
  /** May return a Promise: awaited for non-live sources (backpressure), ignored for live ones. */
  readonly onFrame: (frame: Frame) => void | Promise<void>;
  readonly onState?: (state: CameraState, previous: CameraState) => void;
  readonly timers?: CameraTimers;
  /** Backoff jitter in [0, 1); default Math.random. */
  readonly random?: () => number;
}

export interface CameraStats {
  /** Frames delivered to onFrame. */
  frames: number;
  /** Frames read from a live source and not delivered (fps throttle, waiting for a trigger). */
  skipped: number;
  /** Unusable inputs skipped by the sources (corrupt files...), over all reopens. */
  unreadable: number;
  /** `unreadable` by error code, for the sources that tell (folder). */
  unreadableByCode: Record<string, number>;
  /** Reopen attempts after a failure. */
  reopens: number;
  lastFrameAt: number | null;
  lastError?: { code: ErrorCode; message: string; at: number };
}

type Outcome = 'ended' | 'stopped';

export class Camera {
  private current: CameraState = 'starting';
  private readonly counts = { frames: 0, skipped: 0, reopens: 0, lastFrameAt: null as number | null };
  private lastError: CameraStats['lastError'];
  private unreadableClosed = 0;
  private readonly unreadableByCodeClosed: Record<string, number> = {};
  private source: FrameSource | undefined;
  private seq = 0;
  private readsStarted = 0;
  private readonly triggers = new TriggerQueue();
  private readonly stopSignal: StopSignal;
  private loop: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private readonly timers: CameraTimers;

  constructor(
    private readonly config: CameraSettings,
    private readonly deps: CameraDeps,
  ) {
    this.timers = deps.timers ?? systemTimers;
    this.stopSignal = new StopSignal(this.timers);
  }

  get id(): string {
    return this.config.id;
  }

  get state(): CameraState {
    return this.current;
  }

  get stats(): CameraStats {
    const unreadable = this.unreadableClosed + (this.source?.counters.unreadable ?? 0);
    const unreadableByCode = addCounts({ ...this.unreadableByCodeClosed }, this.source?.counters.unreadableByCode);
    return { ...this.counts, unreadable, unreadableByCode, ...(this.lastError ? { lastError: { ...this.lastError } } : {}) };
  }

  /** Starts the read loop; resolves once the first open attempt has settled (either way). */
  start(): Promise<void> {
    if (this.stopSignal.stopped) return Promise.reject(new AppError(ErrorCodes.CAMERA_BUSY, `camera ${this.id} was stopped`));
    if (this.loop) return Promise.resolve();
    return new Promise((opened) => {
      this.loop = this.run(opened).catch((e) => {
        // run() handles its own errors; anything here is a bug, but must not kill the daemon.
        this.deps.logger.warn({ camera: this.id, err: toError(e).message }, 'camera loop crashed');
        opened();
      });
    });
  }

  /** Idempotent; resolves when the read loop has exited and the source is closed. */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopSignal.stop();
    this.stopped = (async () => {
      await this.loop;
      this.triggers.rejectAll(`camera ${this.id} stopped`);
      this.setState('stopped');
    })();
    return this.stopped;
  }

  /**
   * The next frame: in on-demand mode it makes the camera deliver one (a live source hands
   * over the first frame whose read started after this call); in free-run mode it waits for
   * the next frame delivered anyway. The frame also goes to onFrame.
   */
  trigger(): Promise<Frame> {
    if (this.stopSignal.stopped || this.current === 'ended' || !this.loop) {
      const why = this.loop ? this.current : 'not started';
      return Promise.reject(new AppError(ErrorCodes.CAMERA_READ, `camera ${this.id} is ${why}`));
    }
    return this.triggers.add(this.readsStarted);
  }

  /** `opened` fires once the first open attempt has settled and the state says how. */
  private async run(opened: () => void): Promise<void> {
    let failures = 0;
    while (!this.stopSignal.stopped) {
      let source: FrameSource | undefined;
      let outcome: Outcome | undefined;
      try {
        source = this.deps.createSource();
        this.source = source;
        await source.open();
        if (!this.stopSignal.stopped) {
          this.setState('streaming');
          opened();
          outcome = await this.stream(source, () => (failures = 0));
        }
      } catch (e) {
        this.recordFailure(e, source);
      }
      if (source) await this.closeSource(source);
      if (outcome === 'ended') {
        this.setState('ended');
        this.triggers.rejectAll(`camera ${this.id} reached the end of ${source!.description}`);
        break;
      }
      if (this.stopSignal.stopped) break;
      this.setState('reconnecting');
      opened();
      const random = (this.deps.random ?? Math.random)();
      const delayMs = backoffDelay(failures++, this.config.reconnect.initialDelayMs, this.config.reconnect.maxDelayMs, random);
      this.deps.logger.info({ camera: this.id, delayMs, failures }, 'reopening camera source after backoff');
      await this.stopSignal.sleep(delayMs);
      if (!this.stopSignal.stopped) this.counts.reopens++;
    }
    opened();
  }

  private stream(source: FrameSource, progressed: () => void): Promise<Outcome> {
    const fps = this.config.trigger.fps;
    const period = fps > 0 ? 1000 / fps : 0;
    if (this.config.trigger.mode === 'on-demand') return this.onDemand(source, progressed);
    return source.live ? this.drainLive(source, period, progressed) : this.paced(source, period, progressed);
  }

  /** Non-live free-run: one read per period, never ahead of the consumer. */
  private async paced(source: FrameSource, period: number, progressed: () => void): Promise<Outcome> {
    let due = this.timers.now();
    while (!this.stopSignal.stopped) {
      const wait = due - this.timers.now();
      if (period > 0 && wait > 0) await this.stopSignal.sleep(wait);
      else await yieldToEventLoop();
      if (this.stopSignal.stopped) break;
      const got = await this.readOne(source, progressed);
      if (got === 'ended' || got === 'stopped') return got;
      await this.stopSignal.until(this.deliver(got.frame, got.read, true));
      // Stay on the period grid, but after a slow consumer start afresh instead of bursting.
      due = Math.max(due + period, this.timers.now());
    }
    return 'stopped';
  }

  /** Live free-run: read every frame; deliver at most `fps` per second, skip the rest. */
  private async drainLive(source: FrameSource, period: number, progressed: () => void): Promise<Outcome> {
    let nextAt = -Infinity;
    while (!this.stopSignal.stopped) {
      await yieldToEventLoop();
      const got = await this.readOne(source, progressed);
      if (got === 'ended' || got === 'stopped') return got;
      const t = this.timers.now();
      if (period > 0 && t < nextAt) {
        this.counts.skipped++;
        continue;
      }
      // Keep the fps grid; re-anchor when more than a period behind (e.g. after a stall).
      nextAt = t - nextAt > period ? t + period : nextAt + period;
      void this.deliver(got.frame, got.read, true);
    }
    return 'stopped';
  }

  /** On-demand: a non-live source reads one frame per trigger; a live one keeps draining. */
  private async onDemand(source: FrameSource, progressed: () => void): Promise<Outcome> {
    while (!this.stopSignal.stopped) {
      if (!source.live && this.triggers.size === 0) {
        await this.stopSignal.until(this.triggers.next());
        continue;
      }
      await yieldToEventLoop();
      const got = await this.readOne(source, progressed);
      if (got === 'ended' || got === 'stopped') return got;
      if (!this.triggers.wants(got.read)) {
        this.counts.skipped++;
        continue;
      }
      if (source.live) void this.deliver(got.frame, got.read, true);
      else await this.stopSignal.until(this.deliver(got.frame, got.read, false));
    }
    return 'stopped';
  }

  /** One read, numbered (triggers wait for a read started after them); 'ended' at the source's end. */
  private async readOne(source: FrameSource, progressed: () => void): Promise<{ frame: Frame; read: number } | Outcome> {
    const read = ++this.readsStarted;
    const frame = await source.read();
    if (this.stopSignal.stopped) return 'stopped';
    if (frame === null) return 'ended';
    progressed();
    return { frame, read };
  }

  /** Stamp, hand to onFrame, settle triggers. Returns the consumer's promise, if any. */
  private deliver(frame: Frame, read: number, allWaiters: boolean): Promise<void> | undefined {
    // A shallow copy with the Camera's id and a seq that survives reopens; pixels are shared.
    const stamped: Frame = { ...frame, cameraId: this.id, seq: ++this.seq };
    this.counts.frames++;
    this.counts.lastFrameAt = this.timers.now();
    let consumed: Promise<void> | undefined;
    try {
      const r = this.deps.onFrame(stamped);
      if (r && typeof r.then === 'function') consumed = r.then(undefined, (e) => this.consumerFailed(e));
    } catch (e) {
      this.consumerFailed(e);
    }
    this.triggers.settle(stamped, read, allWaiters);
    return consumed;
  }

  private consumerFailed(e: unknown): void {
    this.deps.logger.warn({ camera: this.id, err: toError(e).message }, 'frame consumer threw; frame dropped');
  }

  private recordFailure(e: unknown, source: FrameSource | undefined): void {
    const code = isAppError(e) ? e.code : this.current === 'streaming' ? ErrorCodes.CAMERA_READ : ErrorCodes.CAMERA_OPEN;
    const message = toError(e).message;
    this.lastError = { code, message, at: this.timers.now() };
    this.deps.logger.warn({ camera: this.id, source: source?.description, code, err: message }, 'camera source failed');
  }

  private async closeSource(source: FrameSource): Promise<void> {
    try {
      await source.close();
    } catch (e) {
      this.deps.logger.warn({ camera: this.id, err: toError(e).message }, 'closing camera source failed');
    }
    this.unreadableClosed += source.counters.unreadable;
    addCounts(this.unreadableByCodeClosed, source.counters.unreadableByCode);
    if (this.source === source) this.source = undefined;
  }

  private setState(next: CameraState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.deps.logger.info({ camera: this.id, state: next, previous }, 'camera state');
    try {
      this.deps.onState?.(next, previous);
    } catch (e) {
      this.deps.logger.warn({ camera: this.id, err: toError(e).message }, 'onState listener threw');
    }
  }
}

/** Adds `more` into `into` by key; returns `into`. */
function addCounts(into: Record<string, number>, more: Record<string, number> | undefined): Record<string, number> {
  for (const [k, n] of Object.entries(more ?? {})) into[k] = (into[k] ?? 0) + n;
  return into;
}
