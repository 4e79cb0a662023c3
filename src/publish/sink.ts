/**
 * Sinks receive every Verdict with its frame (DESIGN: "sinks: one interface, Verdict in,
 * protocol out"). They never re-threshold (principle 5) and they are isolated from each other
 * and from the pipeline: a sink that throws, rejects or hangs is counted and logged
 * (rate-limited), and the other sinks and the next frame carry on.
 *
 * - Every publish runs under `timeoutMs`; past it the fan-out stops waiting for that sink
 *   (counted as timedOut) — the sink's promise may still settle later.
 * - A sink with `maxPending` publishes still unsettled (hung, or slower than the camera) is
 *   skipped for new verdicts (counted) instead of piling up promises and frames in memory.
 */
import type { Frame } from '../capture/frame.js';
import { toError } from '../errors.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';

export interface VerdictSink {
  readonly name: string;
  publish(verdict: Verdict, frame: Frame): Promise<void> | void;
  /** Overrides the fan-out's maxPending for a sink that bounds its own queue. */
  readonly maxPending?: number;
}

export interface SinkCounters {
  /** Publishes that completed. */
  published: number;
  /** Publishes that threw or rejected. */
  failed: number;
  /** Publishes the fan-out stopped waiting for after timeoutMs. */
  timedOut: number;
  /** Verdicts not handed to the sink because maxPending publishes were unsettled. */
  skipped: number;
  /** Publishes not settled yet (including timed-out ones still hanging). */
  pending: number;
  lastError?: { message: string; code?: string; at: number };
}

export interface SinkFanoutOptions {
  readonly logger: Logger;
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Default 8. */
  readonly maxPending?: number;
  /** Minimum time between two error lines of one sink. Default 10 000 ms. */
  readonly logIntervalMs?: number;
}

interface SinkEntry {
  readonly sink: VerdictSink;
  readonly counters: SinkCounters;
  readonly log: RateLimitedLog;
}

export class SinkFanout {
  readonly #entries: SinkEntry[];
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(sinks: readonly VerdictSink[], options: SinkFanoutOptions) {
    const names = new Set<string>();
    for (const s of sinks) {
      if (names.has(s.name)) throw new Error(`duplicate sink name: ${s.name}`);
      names.add(s.name);
    }
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxPending = options.maxPending ?? 8;
    this.#entries = sinks.map((sink) => ({
      sink,
      counters: { published: 0, failed: 0, timedOut: 0, skipped: 0, pending: 0 },
      log: new RateLimitedLog(options.logger.child({ sink: sink.name }), options.logIntervalMs ?? 10_000),
    }));
  }

  get names(): string[] {
    return this.#entries.map((e) => e.sink.name);
  }

  /** Hands the verdict to every sink. Settles when each sink finished, failed or timed out; never rejects. */
  publish(verdict: Verdict, frame: Frame): Promise<void> {
    const all = Promise.all(this.#entries.map((e) => this.#publishOne(e, verdict, frame))).then(() => undefined);
    this.#inFlight.add(all);
    void all.finally(() => this.#inFlight.delete(all));
    return all;
  }

  /** Waits for every publish() made so far (each bounded by timeoutMs). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  stats(): Record<string, SinkCounters> {
    const out: Record<string, SinkCounters> = {};
    for (const e of this.#entries) out[e.sink.name] = { ...e.counters, ...(e.counters.lastError ? { lastError: { ...e.counters.lastError } } : {}) };
    return out;
  }

  #publishOne(e: SinkEntry, verdict: Verdict, frame: Frame): Promise<void> {
    const c = e.counters;
    if (c.pending >= (e.sink.maxPending ?? this.#maxPending)) {
      c.skipped++;
      e.log.log('warn', { pending: c.pending, skipped: c.skipped }, 'sink is not keeping up; verdict not handed to it');
      return Promise.resolve();
    }
    c.pending++;
    let settled: Promise<void>;
    try {
      settled = Promise.resolve(e.sink.publish(verdict, frame)).then(
        () => {
          c.published++;
        },
        (err: unknown) => this.#failed(e, verdict, err),
      );
    } catch (err) {
      settled = Promise.resolve(this.#failed(e, verdict, err));
    }
    void settled.finally(() => c.pending--);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        c.timedOut++;
        e.log.log('warn', { id: verdict.id, timeoutMs: this.#timeoutMs }, 'sink publish timed out; not waiting for it');
        resolve();
      }, this.#timeoutMs);
      void settled.finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #failed(e: SinkEntry, verdict: Verdict, thrown: unknown): void {
    const err = toError(thrown);
    const code = (err as { code?: unknown }).code;
    e.counters.failed++;
    e.counters.lastError = { message: err.message, ...(typeof code === 'string' ? { code } : {}), at: Date.now() };
    e.log.log('error', { id: verdict.id, err, failed: e.counters.failed }, 'sink failed to publish a verdict');
  }
}
