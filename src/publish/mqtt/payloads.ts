/**
 * JSON payloads of the plain MQTT topics (pure). The inspection message carries the judge's
 * Verdict as decided — no re-thresholding (DESIGN principle 5) — without the mask bytes (they
 * go to the mask topic) and without `frame.origin`, which may be a camera URL or a file path
 * that has no business on a plant-wide broker.
 */
import type { Verdict } from '../../judge/verdict.js';
import type { CameraSnapshot } from '../control.js';
import { INSPECTION_SCHEMA_ID, type InspectionMessage } from './inspection-schema.js';
import type { CameraState } from '../../capture/camera.js';

const STATE_SCHEMA_ID = 'anomalygpt-edge/state@1';
const REPLY_SCHEMA_ID = 'anomalygpt-edge/command-reply@1';

export interface MaskRef {
  readonly topic: string;
  readonly bytes: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Distinct grid words in region order ("top left", "center", …). */
export function gridWords(v: Pick<Verdict, 'locations'>): InspectionMessage['gridWords'] {
  return [...new Set(v.locations.map((l) => l.grid))];
}

export function inspectionMessage(v: Verdict, mask: MaskRef | null): InspectionMessage {
  return {
    schema: INSPECTION_SCHEMA_ID,
    id: v.id,
    camera: v.cameraId,
    seq: v.seq,
    time: iso(v.capturedAt),
    decidedAt: iso(v.decidedAt),
    pass: v.pass,
    score: v.score,
    threshold: v.threshold,
    confidence: v.confidence,
    defectCount: v.locations.length,
    gridWords: gridWords(v),
    locations: v.locations.map((l) => ({
      box: { x: l.box.x, y: l.box.y, width: l.box.width, height: l.box.height },
      centroid: { x: l.centroid.x, y: l.centroid.y },
      grid: l.grid,
      area: l.area,
      peak: l.peak,
    })),
    recipe: { id: v.recipe.id, version: v.recipe.version },
    model: { id: v.model.id, version: v.model.version },
    timings: { ...v.timings },
    frame: { width: v.frame.width, height: v.frame.height },
    decidedBy: v.decidedBy ?? 'judge',
    ...(v.judge ? { judge: { pass: v.judge.pass, score: v.judge.score, threshold: v.judge.threshold, confidence: v.judge.confidence, model: { id: v.judge.model.id, version: v.judge.model.version } } } : {}),
    ...(v.llm ? { llm: { pYes: v.llm.pYes, judgePass: v.llm.judgePass, visionMs: v.llm.visionMs, prefillMs: v.llm.prefillMs } } : {}),
    mask: mask ? { topic: mask.topic, bytes: mask.bytes, contentType: 'image/png' } : null,
  };
}

export interface VerdictSummary {
  readonly id: string;
  readonly time: string;
  readonly pass: boolean;
  readonly score: number;
  readonly confidence: number;
  readonly defectCount: number;
  readonly gridWords: readonly string[];
}

export function verdictSummary(v: Verdict): VerdictSummary {
  return { id: v.id, time: iso(v.capturedAt), pass: v.pass, score: v.score, confidence: v.confidence, defectCount: v.locations.length, gridWords: gridWords(v) };
}

/** The publisher's own counters shown in every camera's state (the queue is shared). */
export interface MqttCounters {
  /** Verdicts recorded and not yet acknowledged by the broker. */
  readonly queued: number;
  /** Verdicts the broker will never get: the oldest skipped when more than queue.maxMessages waited, or removed by the record's retention first (persisted). */
  readonly dropped: number;
  /** Messages the broker refused for good. */
  readonly rejected: number;
}

export interface StateMessage {
  readonly schema: typeof STATE_SCHEMA_ID;
  readonly camera: string;
  readonly time: string;
  readonly health: CameraState;
  readonly triggerMode: CameraSnapshot['triggerMode'];
  readonly busy: boolean;
  readonly recipe: CameraSnapshot['recipe'];
  readonly model: CameraSnapshot['model'];
  readonly counters: CameraSnapshot['counters'];
  readonly lastVerdictAt: string | null;
  readonly lastVerdict: VerdictSummary | null;
  /** The active recipe's drift state (docs/mqtt.md "State"); null when not watched. */
  readonly drift: { readonly state: string; readonly margin: number | null; readonly passes: number } | null;
  readonly mqtt: MqttCounters;
}

export function stateMessage(s: CameraSnapshot, last: VerdictSummary | null, mqtt: MqttCounters, now: number): StateMessage {
  return {
    schema: STATE_SCHEMA_ID,
    camera: s.id,
    time: iso(now),
    health: s.health,
    triggerMode: s.triggerMode,
    busy: s.busy,
    recipe: { id: s.recipe.id, version: s.recipe.version },
    model: { id: s.model.id, version: s.model.version },
    counters: { ...s.counters },
    lastVerdictAt: s.lastVerdictAt === null ? null : iso(s.lastVerdictAt),
    lastVerdict: last,
    // The margin rounded so that noise in the third decimal does not republish the state.
    drift: s.drift ? { state: s.drift.state, margin: s.drift.margin === null ? null : Math.round(s.drift.margin * 100) / 100, passes: s.drift.passes } : null,
    mqtt,
  };
}

/** What "changed" compares: everything but the publish time. */
export function stateKey(m: StateMessage): string {
  const { time: _t, ...rest } = m;
  return JSON.stringify(rest);
}

export type RequestId = string | number | null;

export interface CommandReply {
  readonly schema: typeof REPLY_SCHEMA_ID;
  readonly command: string;
  readonly camera: string;
  readonly requestId: RequestId;
  readonly ok: boolean;
  readonly time: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** trigger: the verdict's summary (the full verdict comes on /inspection). */
  readonly inspection?: VerdictSummary;
  /** recipe: the recipe now selected. */
  readonly recipe?: string;
}

export function replyMessage(
  base: { command: string; camera: string; requestId: RequestId },
  outcome: { ok: true; inspection?: VerdictSummary; recipe?: string } | { ok: false; code: string; message: string },
  now: number,
): CommandReply {
  const common = { schema: REPLY_SCHEMA_ID as typeof REPLY_SCHEMA_ID, command: base.command, camera: base.camera, requestId: base.requestId, time: iso(now) };
  if (!outcome.ok) return { ...common, ok: false, error: { code: outcome.code, message: outcome.message } };
  return {
    ...common,
    ok: true,
    ...(outcome.inspection ? { inspection: outcome.inspection } : {}),
    ...(outcome.recipe !== undefined ? { recipe: outcome.recipe } : {}),
  };
}
