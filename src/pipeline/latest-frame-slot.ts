/**
 * One waiting place per camera (DESIGN principle 3: newest frame wins under load). While a
 * frame is being inspected, frames that arrive wait here; a newer one replaces an older one,
 * which is counted as dropped. Inspecting a stale frame from a queue would report on a part
 * that has already left the camera's view, and a queue grows without bound when inference is
 * slower than the camera.
 *
 * Generic over what it holds so the pipeline can keep per-frame bookkeeping with the frame.
 * Pure: imports nothing internal.
 */
export class LatestFrameSlot<T> {
  #item: T | undefined;
  #full = false;
  #dropped = 0;

  /** Frames replaced (or cleared) before they could be taken. */
  get dropped(): number {
    return this.#dropped;
  }

  get full(): boolean {
    return this.#full;
  }

  /** Puts `item` in the slot; returns the item it replaced (now dropped), if any. */
  offer(item: T): T | undefined {
    const replaced = this.#full ? this.#item : undefined;
    if (this.#full) this.#dropped++;
    this.#item = item;
    this.#full = true;
    return replaced;
  }

  /** Empties the slot and returns what it held. */
  take(): T | undefined {
    if (!this.#full) return undefined;
    const item = this.#item;
    this.#item = undefined;
    this.#full = false;
    return item;
  }

  /** Drops what the slot holds (e.g. on stop); returns it so the caller can settle it. */
  clear(): T | undefined {
    if (!this.#full) return undefined;
    this.#dropped++;
    return this.take();
  }
}
