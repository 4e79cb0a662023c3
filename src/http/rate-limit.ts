/**
 * A sliding-window counter per key (client address, session): at most `limit` hits in any
 * `windowMs`. Bounded: at most `maxKeys` keys are tracked, the least recently hit dropped
 * first, so a flood of addresses cannot grow memory. Pure apart from the clock it is given.
 */
export interface RateDecision {
  readonly allowed: boolean;
  /** Seconds until the oldest hit leaves the window (when refused). */
  readonly retryAfterS: number;
}

export class RateLimiter {
  readonly #hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Whether `key` is under its limit now, without counting a hit. */
  check(key: string): RateDecision {
    const t = this.now();
    const hits = this.#recent(key, t);
    if (hits.length < this.limit) return { allowed: true, retryAfterS: 0 };
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((hits[0] + this.windowMs - t) / 1000)) };
  }

  /** Counts a hit for `key`. */
  hit(key: string): void {
    const t = this.now();
    const hits = this.#recent(key, t);
    hits.push(t);
    // Re-insert: Map order is the LRU order.
    this.#hits.delete(key);
    this.#hits.set(key, hits);
    while (this.#hits.size > this.maxKeys) this.#hits.delete(this.#hits.keys().next().value as string);
  }

  /** Counts a hit when under the limit; the decision says which. */
  take(key: string): RateDecision {
    const d = this.check(key);
    if (d.allowed) this.hit(key);
    return d;
  }

  reset(key: string): void {
    this.#hits.delete(key);
  }

  #recent(key: string, t: number): number[] {
    const hits = this.#hits.get(key) ?? [];
    let drop = 0;
    while (drop < hits.length && hits[drop] <= t - this.windowMs) drop++;
    if (drop > 0) hits.splice(0, drop);
    return hits;
  }
}
