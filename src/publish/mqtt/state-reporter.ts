/**
 * The retained `<prefix>/<camera>/state` topic: camera health, recipe, model, the camera's
 * counters, the last verdict's summary and the MQTT queue counters (queued, dropped, rejected).
 *
 * Published when it changed (checked every `checkMs`, and at once on a health event), at
 * least every `periodMs` even if nothing changed (so a stale retained state is visible by its
 * `time`), and on every connect. Not queued on disk: it is the current state, not history — a
 * state that could not be sent is simply replaced by the next one.
 */
import type { Verdict } from '../../judge/verdict.js';
import type { DaemonControl } from '../control.js';
import { stateKey, stateMessage, verdictSummary, type MqttCounters, type VerdictSummary } from './payloads.js';
import type { Topics } from './topics.js';

export interface StateReporterOptions {
  readonly control: DaemonControl;
  readonly topics: Topics;
  readonly periodMs: number;
  /** How often a change is looked for. Default 1000 ms. */
  readonly checkMs?: number;
  readonly counters: () => MqttCounters;
  /** Publishes retained at QoS 1; returns false when it could not (not connected). */
  readonly publish: (topic: string, payload: Buffer) => boolean;
}

interface Sent {
  key: string;
  at: number;
}

export class StateReporter {
  readonly #o: StateReporterOptions;
  readonly #last = new Map<string, VerdictSummary>();
  readonly #sent = new Map<string, Sent>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: StateReporterOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.#o.checkMs ?? 1000);
    this.#timer.unref();
    this.#unsubscribe = this.#o.control.onHealth((cameraId) => this.tick(false, cameraId));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  noteVerdict(v: Verdict): void {
    this.#last.set(v.cameraId, verdictSummary(v));
  }

  /** On connect: everything, changed or not (the broker may have lost its retained copy). */
  publishAll(): void {
    this.tick(true);
  }

  tick(force = false, onlyCamera?: string): void {
    const now = Date.now();
    const counters = this.#o.counters();
    for (const cam of this.#o.control.cameras) {
      if (onlyCamera !== undefined && cam.id !== onlyCamera) continue;
      const msg = stateMessage(cam.snapshot(), this.#last.get(cam.id) ?? null, counters, now);
      const key = stateKey(msg);
      const sent = this.#sent.get(cam.id);
      if (!force && sent && sent.key === key && now - sent.at < this.#o.periodMs) continue;
      if (this.#o.publish(this.#o.topics.state(cam.id), Buffer.from(JSON.stringify(msg)))) {
        this.#sent.set(cam.id, { key, at: now });
      }
    }
  }
}
