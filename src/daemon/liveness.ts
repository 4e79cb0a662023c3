/**
 * Liveness means progress (DESIGN principle 6), per camera. Every watchdog interval
 * (WATCHDOG_USEC / 2) each pipeline is judged:
 *
 *   live    — it completed at least one inspection (verdict or error) since the last check;
 *   idle    — it had nothing it should have done: no frame in flight, no trigger waiting, and
 *             its camera is on-demand, or not streaming (starting / reconnecting / ended: the
 *             camera supervisor retries on its own, and restarting the daemon would not bring
 *             a missing camera back — it would only interrupt the other cameras), or
 *             free-running slower than one frame per interval;
 *   stalled — otherwise: a frame in flight for a whole interval, a trigger unanswered for a
 *             whole interval, or a streaming free-run camera that delivered nothing.
 *
 * WATCHDOG=1 is sent only when no pipeline is stalled; so "no camera is free-running" and an
 * idle on-demand camera keep the daemon alive, while one stuck pipeline lets systemd's
 * WatchdogSec expire and restart the service.
 */
import type { PipelineActivity } from '../pipeline/camera-pipeline.js';
import type { Logger } from '../log.js';
import type { IntervalTimers, Watchdog } from './sd-notify.js';

export type Liveness = 'live' | 'idle' | 'stalled';

export function judgeLiveness(a: PipelineActivity, completedBefore: number, intervalMs: number): Liveness {
  if (a.completed > completedBefore) return 'live';
  if (a.cameraState !== 'streaming') return 'idle';
  if (a.inFlight || a.triggersPending > 0) return 'stalled';
  if (a.mode === 'on-demand') return 'idle';
  if (a.fps > 0 && 1000 / a.fps > intervalMs) return 'idle';
  return 'stalled';
}

export interface LivenessMonitorOptions {
  readonly pipelines: readonly { readonly cameraId: string; readonly activity: PipelineActivity }[];
  readonly watchdog: Pick<Watchdog, 'progress' | 'tick'>;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly timers?: IntervalTimers;
}

const realIntervals: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** Drives the Watchdog: judges the pipelines, feeds progress when none is stalled, then ticks. */
export class LivenessMonitor {
  readonly #opts: LivenessMonitorOptions;
  readonly #timers: IntervalTimers;
  readonly #completed: number[];
  #handle: unknown;
  #stalled: string[] = [];

  constructor(options: LivenessMonitorOptions) {
    this.#opts = options;
    this.#timers = options.timers ?? realIntervals;
    this.#completed = options.pipelines.map((p) => p.activity.completed);
  }

  /** Camera ids judged stalled at the last check. */
  get stalled(): readonly string[] {
    return this.#stalled;
  }

  start(): void {
    this.#completed.splice(0, this.#completed.length, ...this.#opts.pipelines.map((p) => p.activity.completed));
    this.#handle ??= this.#timers.setInterval(() => this.check(), this.#opts.intervalMs);
  }

  stop(): void {
    if (this.#handle !== undefined) this.#timers.clearInterval(this.#handle);
    this.#handle = undefined;
  }

  /** One interval. Returns whether WATCHDOG=1 was sent. */
  check(): boolean {
    const stalled: string[] = [];
    this.#opts.pipelines.forEach((p, i) => {
      const a = p.activity;
      if (judgeLiveness(a, this.#completed[i], this.#opts.intervalMs) === 'stalled') stalled.push(p.cameraId);
      this.#completed[i] = a.completed;
    });
    if (stalled.length > 0 && stalled.join() !== this.#stalled.join()) {
      this.#opts.logger.warn({ stalled, intervalMs: this.#opts.intervalMs }, 'pipelines made no progress this interval');
    }
    this.#stalled = stalled;
    if (stalled.length === 0) this.#opts.watchdog.progress();
    return this.#opts.watchdog.tick();
  }
}
