/**
 * The last N values of a measurement (a ring buffer) and their percentiles, for the status
 * page: p50/p99 over recent frames say more about a line than a lifetime average does.
 * Pure: imports nothing internal. Percentiles sort a copy, so they cost O(N log N) per call —
 * fine for a status request, never done per frame.
 */
export class RollingWindow {
  readonly #values: Float64Array;
  #count = 0;
  #next = 0;

  constructor(readonly capacity = 256) {
    if (!(capacity >= 1)) throw new RangeError('RollingWindow capacity must be ≥ 1');
    this.#values = new Float64Array(capacity);
  }

  get size(): number {
    return this.#count;
  }

  push(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#count < this.capacity) this.#count++;
  }

  /** Nearest-rank percentile (p in [0, 100]) of the values in the window; null when empty. */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    const sorted = this.#values.slice(0, this.#count).sort();
    const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.#count);
    return sorted[Math.max(0, rank - 1)];
  }
}
