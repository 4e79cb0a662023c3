/**
 * The inspection record's tables (SQLite, WAL): one row per verdict, written once, with the
 * frame, mask and anomaly map as files next to the database; named cursors (how far a durable consumer such
 * as the MQTT outbox has got) and counters that must survive restarts (losses).
 * Pure: SQL text and row mapping, shared by the writer thread and the readers.
 */
import type { Verdict } from '../judge/verdict.js';

/** Bumped when the tables change; a file written by a newer version is refused. */
export const RECORD_SCHEMA_VERSION = 3;

/** Columns added after schema 1, with their type: added in place when an older file opens. */
export const RECORD_ADDED_COLUMNS: readonly (readonly [name: string, type: string])[] = [
  // 2: the anomaly map as an 8-bit PNG, saved with the frame (issue 10, the page's overlay).
  ['map_file', 'TEXT'],
];

export const RECORD_DDL = `
CREATE TABLE IF NOT EXISTS inspections (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT    NOT NULL UNIQUE,
  camera         TEXT    NOT NULL,
  captured_at    INTEGER NOT NULL,
  decided_at     INTEGER NOT NULL,
  recorded_at    INTEGER NOT NULL,
  pass           INTEGER NOT NULL,
  score          REAL    NOT NULL,
  threshold      REAL    NOT NULL,
  confidence     REAL    NOT NULL,
  decided_by     TEXT    NOT NULL,
  recipe_id      TEXT    NOT NULL,
  recipe_version TEXT    NOT NULL,
  verdict        TEXT    NOT NULL,
  frame_file     TEXT,
  mask_file      TEXT,
  map_file       TEXT,
  bytes          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inspections_camera ON inspections (camera, seq);
CREATE INDEX IF NOT EXISTS inspections_pass ON inspections (pass, seq);
CREATE INDEX IF NOT EXISTS inspections_recipe ON inspections (recipe_id, seq);
CREATE INDEX IF NOT EXISTS inspections_time ON inspections (captured_at);
-- Counts over a time range read these alone (covering), never the rows: per camera, and for all.
CREATE INDEX IF NOT EXISTS inspections_camera_time ON inspections (camera, captured_at, pass);
CREATE INDEX IF NOT EXISTS inspections_time_counts ON inspections (captured_at, camera, pass);
-- 3: the technician's reviews (docs/http-api.md "Review the verdict"): who marked which
-- inspection, and the recipe version it produced. Kept when retention removes the inspection
-- (the audit outlives the frame); CREATE IF NOT EXISTS adds it to an older file in place.
CREATE TABLE IF NOT EXISTS reviews (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  inspection_id  TEXT    NOT NULL,
  at             INTEGER NOT NULL,
  user           TEXT    NOT NULL,
  action         TEXT    NOT NULL,
  label          TEXT,
  recipe_id      TEXT    NOT NULL,
  from_version   TEXT,
  to_version     TEXT,
  undoes         INTEGER,
  note           TEXT,
  evidence       TEXT
);
CREATE INDEX IF NOT EXISTS reviews_inspection ON reviews (inspection_id, id);
CREATE INDEX IF NOT EXISTS reviews_recipe ON reviews (recipe_id, id);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/**
 * The verdict as stored: everything but the mask bytes (a file) and the in-memory anomaly map
 * (a file when the frame is saved); of the map only the frame rectangle it covers is kept
 * (`crop`), so the page can lay the saved map over the saved frame.
 */
export type RecordedVerdict = Omit<Verdict, 'maskPng' | 'map'> & { readonly crop?: NonNullable<Verdict['map']>['crop'] };

/** What the main thread hands the writer for one verdict (its files already on disk). */
export interface RecordRow {
  readonly id: string;
  readonly camera: string;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly recordedAt: number;
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly confidence: number;
  readonly decidedBy: string;
  readonly recipeId: string;
  readonly recipeVersion: string;
  /** JSON of the RecordedVerdict. */
  readonly verdict: string;
  /** Relative to the record folder. */
  readonly frameFile: string | null;
  readonly maskFile: string | null;
  readonly mapFile: string | null;
  /** JSON + file bytes: what retention's maxBytes counts. */
  readonly bytes: number;
}

export function rowOf(v: Verdict, files: { frame: string | null; mask: string | null; map?: string | null }, fileBytes: number, recordedAt: number): RecordRow {
  const { maskPng: _mask, map, ...rest } = v;
  const stored: RecordedVerdict = map ? { ...rest, crop: map.crop } : rest;
  const verdict = JSON.stringify(stored);
  return {
    id: v.id, camera: v.cameraId, capturedAt: v.capturedAt, decidedAt: v.decidedAt, recordedAt, pass: v.pass,
    score: v.score, threshold: v.threshold, confidence: v.confidence, decidedBy: v.decidedBy ?? 'judge',
    recipeId: v.recipe.id, recipeVersion: v.recipe.version, verdict, frameFile: files.frame, maskFile: files.mask, mapFile: files.map ?? null,
    bytes: Buffer.byteLength(verdict) + fileBytes,
  };
}

/** One inspection read back from the record. */
export interface RecordedInspection {
  readonly seq: number;
  readonly id: string;
  readonly recordedAt: number;
  readonly verdict: RecordedVerdict;
  /** Relative to the record folder; null when not saved. */
  readonly files: { readonly frame: string | null; readonly mask: string | null; readonly map: string | null };
}

/** The columns readers select (SELECT_COLUMNS). */
export interface StoredRow {
  seq: number;
  id: string;
  recorded_at: number;
  verdict: string;
  frame_file: string | null;
  mask_file: string | null;
  map_file: string | null;
}

export const SELECT_COLUMNS = 'seq, id, recorded_at, verdict, frame_file, mask_file, map_file';

export function inspectionOf(r: StoredRow): RecordedInspection {
  return { seq: r.seq, id: r.id, recordedAt: r.recorded_at, verdict: JSON.parse(r.verdict) as RecordedVerdict, files: { frame: r.frame_file, mask: r.mask_file, map: r.map_file } };
}

/**
 * One review action (a row of `reviews`): `review` (label good on a fail: the recipe learnt
 * the frame; label defect on a pass: stored as defect evidence) or `undo` (the recipe went
 * back from `fromVersion` to `toVersion`; `undoes` is the id of the review it reverted).
 */
export interface ReviewRow {
  readonly inspectionId: string;
  readonly at: number;
  readonly user: string;
  readonly action: 'review' | 'undo';
  readonly label: 'good' | 'defect' | null;
  readonly recipeId: string;
  readonly fromVersion: string | null;
  readonly toVersion: string | null;
  readonly undoes: number | null;
  readonly note: string | null;
  /** Where the labelled frame was kept (relative to the state directory), if anywhere. */
  readonly evidence: string | null;
}

export interface StoredReview extends ReviewRow {
  readonly id: number;
}

export const REVIEW_COLUMNS =
  'id, inspection_id AS inspectionId, at, user, action, label, recipe_id AS recipeId, from_version AS fromVersion, to_version AS toVersion, undoes, note, evidence';

/** Worker protocol (record-writer.ts ⇄ record-worker.ts). */
export interface WriterInit {
  readonly path: string;
  readonly folder: string;
  /** FULL: every commit fsyncs the WAL (survives power loss); NORMAL: survives process crashes. */
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly maxRecords: number;
  readonly maxBytes: number;
}

export interface WriterState {
  readonly head: number;
  readonly records: number;
  readonly bytes: number;
  readonly cursors: Record<string, number>;
  readonly counters: Record<string, number>;
}

export type WriterRequest =
  | { readonly op: 'append'; readonly id: number; readonly row: RecordRow }
  | { readonly op: 'cursor'; readonly id: number; readonly name: string; readonly seq: number }
  | { readonly op: 'count'; readonly id: number; readonly name: string; readonly delta: number }
  | { readonly op: 'review'; readonly id: number; readonly review: ReviewRow }
  | { readonly op: 'close'; readonly id: number };

/** Retention's work in one commit: rows evicted, and per cursor how many it had not reached yet. */
export interface Eviction {
  readonly records: number;
  readonly bytes: number;
  readonly unconsumed: Record<string, number>;
}

export type WriterReply =
  | { readonly op: 'opened'; readonly state: WriterState; readonly removedOrphans: number }
  | { readonly op: 'committed'; readonly ids: readonly number[]; readonly seqs: readonly (number | null)[]; readonly state: WriterState; readonly eviction: Eviction | null }
  | { readonly op: 'failed'; readonly ids: readonly number[]; readonly message: string }
  | { readonly op: 'fatal'; readonly message: string };
