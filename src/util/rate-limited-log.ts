/**
 * Logs a recurring failure at most once per interval, with how many were left out since the
 * last line. A camera that fails every frame at 30 fps, or a full disk, must not turn the
 * journal into a firehose that hides everything else (the archive does the same).
 */
import type { Logger } from '../log.js';

export class RateLimitedLog {
  #lastAt = -Infinity;
  #suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'error'>,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs now, or counts the line as suppressed. Returns whether it logged. */
  log(level: 'warn' | 'error', fields: Record<string, unknown>, message: string): boolean {
    const t = this.now();
    if (t - this.#lastAt < this.intervalMs) {
      this.#suppressed++;
      return false;
    }
    this.logger[level]({ ...fields, ...(this.#suppressed > 0 ? { suppressed: this.#suppressed } : {}) }, message);
    this.#lastAt = t;
    this.#suppressed = 0;
    return true;
  }
}
