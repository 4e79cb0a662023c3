/**
 * What the result tags of one camera show, and with which StatusCode (tag-quality.ts).
 *
 * Normally the newest verdict. While ResultReady waits for the PLC's Ack the result tags hold
 * still — the PLC reads the result it was told about — and verdicts from other sources
 * (free-run frames, MQTT triggers) are held back; the newest of them is shown on Ack.
 */
import { StatusCodes, type StatusCode } from 'node-opcua';
import type { Verdict } from '../../judge/verdict.js';
import type { CameraControl } from '../control.js';
import type { CameraTags } from './camera-tags.js';
import { resultQuality } from './tag-quality.js';
import type { CameraState } from '../../capture/camera.js';

const QUALITY = {
  good: StatusCodes.Good,
  waiting: StatusCodes.BadWaitingForInitialData,
  'no-communication': StatusCodes.BadNoCommunication,
  'last-usable': StatusCodes.UncertainLastUsableValue,
} as const;

export class ResultDisplay {
  readonly #tags: CameraTags;
  readonly #camera: CameraControl;
  readonly #freeRun: boolean;
  readonly #staleAfterMs: number;
  #health: CameraState;
  #resultReady = false;
  #held: Verdict | undefined;
  #shown: Verdict | undefined;

  constructor(tags: CameraTags, camera: CameraControl, options: { freeRun: boolean; staleAfterMs: number; health: CameraState }) {
    this.#tags = tags;
    this.#camera = camera;
    this.#freeRun = options.freeRun;
    this.#staleAfterMs = options.staleAfterMs;
    this.#health = options.health;
  }

  set health(health: CameraState) {
    this.#health = health;
    this.#tags.setHealth(health);
    this.refresh(Date.now());
  }

  show(v: Verdict): void {
    if (this.#resultReady) {
      this.#held = v;
      return;
    }
    if (this.#shown?.id === v.id) return;
    this.#shown = v;
    this.#tags.showVerdict(v, this.#quality(Date.now()));
    this.#tags.setActive(this.#camera.snapshot());
  }

  /** The handshake's result is on the tags: ResultReady until Ack. */
  markReady(): void {
    this.#resultReady = true;
    this.#tags.setFlag('ResultReady', true);
  }

  clearReady(): void {
    if (!this.#resultReady) return;
    this.#resultReady = false;
    this.#tags.setFlag('ResultReady', false);
    const held = this.#held;
    this.#held = undefined;
    if (held) this.show(held);
  }

  /** Re-stamps the result tags when their quality changed (every second, on health changes). */
  refresh(now: number): void {
    this.#tags.setResultStatus(this.#quality(now));
  }

  #quality(now: number): StatusCode {
    return QUALITY[
      resultQuality({
        health: this.#health,
        triggerMode: this.#freeRun ? 'free-run' : 'on-demand',
        lastCapturedAt: this.#shown?.capturedAt ?? null,
        now,
        staleAfterMs: this.#staleAfterMs,
      })
    ];
  }
}
