/**
 * Answers at once: a counting semaphore with a bounded queue. Beyond `limit` running and
 * `queueLimit` waiting, acquire() refuses with E_LLM_BUSY (HTTP 429 + Retry-After) — the code
 * the page already branches on, whoever answers.
 */
import { AppError, ErrorCodes } from '../errors.js';

export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly queueLimit: number,
  ) {}

  /** Resolves with the release function (idempotent); throws E_LLM_BUSY when full. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.queueLimit) {
        throw new AppError(ErrorCodes.LLM_BUSY, `${this.active} answers are being given and ${this.waiting.length} are waiting; try again shortly`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on; `active` stays
      else this.active--;
    };
  }

  get busy(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
