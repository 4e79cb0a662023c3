/**
 * The InspectionSummary of docs/http-api.md: one shape for an inspection whether it comes from
 * the live cache (a Verdict in memory) or from the record (its stored JSON) — what the live
 * view, the history table and the inspection page all draw from. Pure.
 */
import type { RecordedInspection, RecordedVerdict } from '../archive/record-schema.js';
import type { Verdict } from '../judge/verdict.js';

type Rect = { readonly x: number; readonly y: number; readonly width: number; readonly height: number };

export interface InspectionSummary {
  readonly seq: number | null;
  readonly id: string;
  readonly camera: string;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly recordedAt: number | null;
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly confidence: number;
  readonly decidedBy: 'judge' | 'llm';
  readonly judge: { readonly pass: boolean; readonly score: number; readonly threshold: number; readonly confidence: number } | null;
  readonly llm: { readonly pYes: number; readonly judgePass: boolean } | null;
  readonly locations: readonly { readonly box: Rect; readonly centroid: { x: number; y: number }; readonly grid: string; readonly area: number; readonly peak: number }[];
  readonly recipe: { readonly id: string; readonly version: string };
  readonly model: { readonly id: string; readonly version: string };
  readonly timings: Verdict['timings'];
  readonly frame: { readonly width: number; readonly height: number };
  /** The frame rectangle the anomaly map covers (null when unknown). */
  readonly crop: Rect | null;
  /** Which images can be fetched now (from memory or the record). */
  readonly files: { readonly frame: boolean; readonly mask: boolean; readonly map: boolean };
}

function base(v: RecordedVerdict | Verdict, crop: Rect | null): Omit<InspectionSummary, 'seq' | 'recordedAt' | 'files'> {
  return {
    id: v.id,
    camera: v.cameraId,
    capturedAt: v.capturedAt,
    decidedAt: v.decidedAt,
    pass: v.pass,
    score: v.score,
    threshold: v.threshold,
    confidence: v.confidence,
    decidedBy: v.decidedBy ?? 'judge',
    judge: v.judge ? { pass: v.judge.pass, score: v.judge.score, threshold: v.judge.threshold, confidence: v.judge.confidence } : null,
    llm: v.llm ? { pYes: v.llm.pYes, judgePass: v.llm.judgePass } : null,
    locations: v.locations.map((l) => ({ box: { ...l.box }, centroid: { ...l.centroid }, grid: l.grid, area: l.area, peak: l.peak })),
    recipe: { id: v.recipe.id, version: v.recipe.version },
    model: { id: v.model.id, version: v.model.version },
    timings: { ...v.timings },
    frame: { width: v.frame.width, height: v.frame.height },
    crop: crop ? { x: crop.x, y: crop.y, width: crop.width, height: crop.height } : null,
  };
}

/** A verdict still in memory (its frame and map are there too). */
export function liveSummary(v: Verdict, seq: number | null): InspectionSummary {
  return {
    ...base(v, v.map?.crop ?? null),
    seq,
    recordedAt: null,
    files: { frame: true, mask: v.maskPng !== undefined && v.maskPng.byteLength > 0, map: v.map !== undefined },
  };
}

/** An inspection read back from the record; `inMemory` when the live cache still holds it. */
export function recordedSummary(r: RecordedInspection, inMemory?: Verdict): InspectionSummary {
  return {
    ...base(r.verdict, r.verdict.crop ?? inMemory?.map?.crop ?? null),
    seq: r.seq,
    recordedAt: r.recordedAt,
    files: {
      frame: r.files.frame !== null || inMemory !== undefined,
      mask: r.files.mask !== null || (inMemory?.maskPng !== undefined && inMemory.maskPng.byteLength > 0),
      map: r.files.map !== null || inMemory?.map !== undefined,
    },
  };
}
