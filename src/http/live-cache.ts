/**
 * The live view's memory (issue 10 item 1): a verdict sink that keeps, per camera, the newest
 * `perCamera` recorded verdicts with their frames and anomaly maps, and tells listeners (the
 * SSE stream) of each one as it is recorded.
 *
 * - Frames are immutable and owned by their verdict (src/capture/frame.ts): kept by reference,
 *   never copied; the JPEG (and the map PNG) is encoded only when a browser asks, once per
 *   frame, on libuv's thread pool. Memory is bounded by `perCamera` frames per camera plus
 *   their encodings.
 * - It sits after the record (a sink), so everything it shows is durable; the record's seq is
 *   picked up from the record's append listener, which runs just before the sinks.
 * - Inspections per second are counted over the last 10 s from the decision times.
 */
import type { Frame } from '../capture/frame.js';
import { encodeJpeg } from '../archive/record-files.js';
import { toError } from '../errors.js';
import { mapPng } from '../judge/map-image.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';

export interface LiveEntry {
  readonly verdict: Verdict;
  readonly frame: Frame;
  /** The record's seq (null if the record's listener did not report it). */
  readonly seq: number | null;
  jpeg?: Promise<Buffer>;
  map?: Buffer;
}

export type LiveListener = (entry: LiveEntry) => void;

export interface LiveCacheOptions {
  /** Newest verdicts (with frames) kept per camera. */
  readonly perCamera: number;
  readonly logger: Logger;
  /** The window of the inspections-per-second figure. Default 10 000 ms. */
  readonly rateWindowMs?: number;
  readonly now?: () => number;
}

const MAX_RATE_SAMPLES = 4096;

export class LiveCache {
  readonly name = 'live';
  readonly #o: LiveCacheOptions;
  readonly #byCamera = new Map<string, LiveEntry[]>();
  readonly #decided = new Map<string, number[]>();
  readonly #seqs = new Map<string, number>();
  readonly #listeners = new Set<LiveListener>();

  constructor(options: LiveCacheOptions) {
    this.#o = options;
  }

  /** Wire to InspectionRecord.onAppend: remembers the seq of a verdict about to be published. */
  noteSeq(seq: number, verdict: Verdict): void {
    this.#seqs.set(verdict.id, seq);
    // The sinks run right after; anything not picked up soon is stale.
    if (this.#seqs.size > 256) this.#seqs.delete(this.#seqs.keys().next().value as string);
  }

  /** The sink: called with every recorded verdict. */
  publish(verdict: Verdict, frame: Frame): void {
    const seq = this.#seqs.get(verdict.id) ?? null;
    this.#seqs.delete(verdict.id);
    const entry: LiveEntry = { verdict, frame, seq };
    const ring = this.#byCamera.get(verdict.cameraId) ?? [];
    ring.push(entry);
    while (ring.length > this.#o.perCamera) ring.shift();
    this.#byCamera.set(verdict.cameraId, ring);
    if (this.#listeners.size > 0) {
      // Someone is watching: the browser will ask for these next, so start on them now
      // (in parallel with the event, off the main thread for the JPEG).
      this.jpeg(entry).catch(() => undefined);
      try {
        this.mapPng(entry);
      } catch {
        // asked again (and failing visibly) when the browser requests it
      }
    }
    const times = this.#decided.get(verdict.cameraId) ?? [];
    times.push(verdict.decidedAt);
    if (times.length > MAX_RATE_SAMPLES) times.shift();
    this.#decided.set(verdict.cameraId, times);
    for (const l of this.#listeners) {
      try {
        l(entry);
      } catch (e) {
        this.#o.logger.warn({ err: toError(e) }, 'live listener threw');
      }
    }
  }

  onVerdict(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A recent inspection by id, if still in memory. */
  get(id: string): LiveEntry | undefined {
    for (const ring of this.#byCamera.values()) {
      for (let i = ring.length - 1; i >= 0; i--) if (ring[i].verdict.id === id) return ring[i];
    }
    return undefined;
  }

  latest(cameraId: string): LiveEntry | undefined {
    const ring = this.#byCamera.get(cameraId);
    return ring?.[ring.length - 1];
  }

  /** Inspections per second over the rate window. */
  rate(cameraId: string): number {
    const windowMs = this.#o.rateWindowMs ?? 10_000;
    const since = (this.#o.now ?? Date.now)() - windowMs;
    const times = this.#decided.get(cameraId) ?? [];
    while (times.length > 0 && times[0] < since) times.shift();
    return times.length / (windowMs / 1000);
  }

  /** The frame as JPEG, encoded on first request and kept with the entry. */
  jpeg(entry: LiveEntry): Promise<Buffer> {
    entry.jpeg ??= encodeJpeg(entry.frame);
    // A failed encoding is not cached: the next request tries again.
    entry.jpeg.catch(() => {
      entry.jpeg = undefined;
    });
    return entry.jpeg;
  }

  /** The anomaly map as 8-bit PNG (128 = the judge's boundary); undefined without a map. */
  mapPng(entry: LiveEntry): Buffer | undefined {
    const v = entry.verdict;
    if (!v.map) return undefined;
    entry.map ??= mapPng(v.map, v.judge?.threshold ?? v.threshold);
    return entry.map;
  }
}
