/**
 * Time for the Camera supervisor: an injectable clock/timer (so tests step time instead of
 * sleeping) and the reconnect backoff.
 */

export interface CameraTimers {
  /** Wall-clock ms (stamped into stats.lastFrameAt); also used for pacing. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: CameraTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Up to this fraction is taken off each delay, so cameras on one switch do not retry in step. */
const BACKOFF_JITTER = 0.2;

/**
 * Delay before reopen attempt `failures` (0 after the first failure): initialDelayMs doubled
 * per consecutive failure up to maxDelayMs, minus up to 20 % jitter (`random` in [0, 1)).
 */
export function backoffDelay(failures: number, initialDelayMs: number, maxDelayMs: number, random: number): number {
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failures, 30));
  return Math.round(base * (1 - BACKOFF_JITTER * random));
}

/** Let timers and I/O run between frames of sources that resolve without real waiting. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A one-way stop flag that cuts short the waits made through it. */
export class StopSignal {
  private isStopped = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly timers: CameraTimers) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves after `ms`, or at once on stop (the timer is cleared). */
  sleep(ms: number): Promise<void> {
    return this.race((done) => {
      const handle = this.timers.setTimeout(done, ms);
      return () => this.timers.clearTimeout(handle);
    });
  }

  /** Waits for `p` (when given) but no longer than until stop. */
  until(p: Promise<unknown> | undefined): Promise<void> {
    if (!p) return Promise.resolve();
    return this.race((done) => {
      void p.then(done, done);
      return () => {};
    });
  }

  private race(start: (done: () => void) => () => void): Promise<void> {
    return new Promise((resolve) => {
      if (this.isStopped) return resolve();
      let cancel = () => {};
      const finish = () => {
        this.listeners.delete(onStop);
        resolve();
      };
      const onStop = () => {
        cancel();
        finish();
      };
      this.listeners.add(onStop);
      cancel = start(finish);
    });
  }
}
