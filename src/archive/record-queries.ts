/**
 * History queries over the inspection record (the technician's page, the dialogue): filter by
 * camera, result, recipe and capture time, newest first, paged by seq ("before this seq") so a
 * page costs the same at row 10 as at row 10 000 and new rows never shift a page.
 * The values are bound parameters; only fixed SQL fragments are concatenated.
 */
import type Database from 'better-sqlite3';
import { SELECT_COLUMNS, inspectionOf, type RecordedInspection, type StoredRow } from './record-schema.js';

export interface HistoryFilter {
  readonly camera?: string;
  readonly pass?: boolean;
  readonly recipe?: string;
  /** Capture time, epoch ms, inclusive. */
  readonly from?: number;
  /** Capture time, epoch ms, exclusive. */
  readonly to?: number;
  /** Only rows older than this seq (the previous page's `next`). */
  readonly before?: number;
  /** Default 50, at most 500. */
  readonly limit?: number;
}

export interface HistoryPage {
  readonly items: RecordedInspection[];
  /** Rows matching the filter (all pages). */
  readonly total: number;
  /** `before` for the next (older) page; null on the last one. */
  readonly next: number | null;
}

export const MAX_PAGE = 500;

function where(f: HistoryFilter, withBefore: boolean): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.camera !== undefined) (parts.push('camera = ?'), args.push(f.camera));
  if (f.pass !== undefined) (parts.push('pass = ?'), args.push(f.pass ? 1 : 0));
  if (f.recipe !== undefined) (parts.push('recipe_id = ?'), args.push(f.recipe));
  if (f.from !== undefined) (parts.push('captured_at >= ?'), args.push(f.from));
  if (f.to !== undefined) (parts.push('captured_at < ?'), args.push(f.to));
  if (withBefore && f.before !== undefined) (parts.push('seq < ?'), args.push(f.before));
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', args };
}

export function historyQuery(db: Database.Database, f: HistoryFilter): HistoryPage {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(f.limit ?? 50)));
  const page = where(f, true);
  const rows = db.prepare(`SELECT ${SELECT_COLUMNS} FROM inspections ${page.sql} ORDER BY seq DESC LIMIT ?`).all(...page.args, limit + 1) as StoredRow[];
  const all = where(f, false);
  const total = (db.prepare(`SELECT count(*) AS n FROM inspections ${all.sql}`).get(...all.args) as { n: number }).n;
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(inspectionOf);
  return { items, total, next: more ? items[items.length - 1].seq : null };
}

/** Inspections per camera over a filter (one aggregate query; no row is loaded). */
export interface CameraCounts {
  readonly camera: string;
  readonly inspected: number;
  readonly passed: number;
  readonly failed: number;
  /** Capture time of the first and last inspection counted, epoch ms. */
  readonly firstAt: number;
  readonly lastAt: number;
}

/** Counts by camera (sorted by camera) of the rows matching camera / recipe / pass / capture time; `before` and `limit` are ignored. */
export function countsQuery(db: Database.Database, f: HistoryFilter): CameraCounts[] {
  const all = where(f, false);
  const rows = db
    .prepare(`SELECT camera, count(*) AS n, total(pass) AS passed, min(captured_at) AS first, max(captured_at) AS last FROM inspections ${all.sql} GROUP BY camera ORDER BY camera`)
    .all(...all.args) as { camera: string; n: number; passed: number; first: number; last: number }[];
  return rows.map((r) => ({ camera: r.camera, inspected: r.n, passed: r.passed, failed: r.n - r.passed, firstAt: r.first, lastAt: r.last }));
}

/** The oldest capture time still in the record (retention removes the oldest rows), or null when empty. */
export function oldestCaptureQuery(db: Database.Database): number | null {
  return (db.prepare('SELECT min(captured_at) AS t FROM inspections').get() as { t: number | null }).t;
}

/** One inspection's score as the few-shot judge saw it, whoever decided. */
export interface JudgeScore {
  readonly seq: number;
  readonly id: string;
  readonly capturedAt: number;
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
}

/**
 * The judge's score and boundary of the newest matching rows (newest first, at most `limit`,
 * default 50, at most MAX_PAGE): `verdict.judge` when recorded, else the row's own figures
 * unless the LLM decided (then score is P(yes), not comparable: such rows are left out).
 * Reads two JSON fields per row, never whole verdicts into JavaScript.
 */
export function judgeScoresQuery(db: Database.Database, f: HistoryFilter): JudgeScore[] {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(f.limit ?? 50)));
  const w = where(f, true);
  const rows = db
    .prepare(
      `SELECT seq, id, captured_at, pass, s, th FROM (
         SELECT seq, id, captured_at, pass,
           CASE WHEN decided_by = 'llm' THEN json_extract(verdict, '$.judge.score') ELSE coalesce(json_extract(verdict, '$.judge.score'), score) END AS s,
           CASE WHEN decided_by = 'llm' THEN json_extract(verdict, '$.judge.threshold') ELSE coalesce(json_extract(verdict, '$.judge.threshold'), threshold) END AS th
         FROM inspections ${w.sql} ORDER BY seq DESC LIMIT ?
       ) WHERE s IS NOT NULL AND th IS NOT NULL`,
    )
    .all(...w.args, limit) as { seq: number; id: string; captured_at: number; pass: number; s: number; th: number }[];
  return rows.map((r) => ({ seq: r.seq, id: r.id, capturedAt: r.captured_at, pass: r.pass === 1, score: r.s, threshold: r.th }));
}

export interface YieldFilter {
  readonly camera?: string;
  readonly recipe?: string;
  /** Capture time, epoch ms, inclusive. */
  readonly from: number;
  /** Capture time, epoch ms, exclusive. */
  readonly to: number;
}

export interface YieldBucket {
  /** Start of the hour (UTC), epoch ms. */
  readonly hour: number;
  readonly inspected: number;
  readonly passed: number;
  readonly failed: number;
}

const HOUR_MS = 3_600_000;

/**
 * Inspections per hour of capture time in [from, to): one aggregate query over the time index,
 * never the rows themselves. Hours without inspections are absent (the page fills the gaps).
 */
export function yieldQuery(db: Database.Database, f: YieldFilter): YieldBucket[] {
  const w = where({ ...(f.camera !== undefined ? { camera: f.camera } : {}), ...(f.recipe !== undefined ? { recipe: f.recipe } : {}), from: f.from, to: f.to }, false);
  const rows = db
    .prepare(`SELECT (captured_at / ${HOUR_MS}) * ${HOUR_MS} AS hour, count(*) AS n, sum(pass) AS p FROM inspections ${w.sql} GROUP BY hour ORDER BY hour`)
    .all(...w.args) as { hour: number; n: number; p: number }[];
  return rows.map((r) => ({ hour: r.hour, inspected: r.n, passed: r.p, failed: r.n - r.p }));
}

export interface PassScores {
  /** The judge's image scores of the newest passes, newest first. */
  readonly scores: number[];
  /** The judge's boundary of the newest of them (null when none). */
  readonly threshold: number | null;
}

/**
 * The judge's scores of a recipe's most recent passes (the drift watch's window): newest
 * first, at most `limit`, optionally of one recipe version only. "Pass" is the judge's own
 * decision (verdict.judge), so an LLM overruling it does not move the statistic; rows from
 * before the judge's figures were recorded fall back to the row's own.
 */
export function passScoresQuery(db: Database.Database, recipe: string, limit: number, version?: string): PassScores {
  const rows = db
    .prepare(
      `SELECT coalesce(json_extract(verdict, '$.judge.score'), score) AS s, coalesce(json_extract(verdict, '$.judge.threshold'), threshold) AS t
       FROM inspections
       WHERE recipe_id = ?${version !== undefined ? ' AND recipe_version = ?' : ''} AND coalesce(json_extract(verdict, '$.judge.pass'), pass) = 1
       ORDER BY seq DESC LIMIT ?`,
    )
    .all(...(version !== undefined ? [recipe, version] : [recipe]), Math.max(1, Math.floor(limit))) as { s: number; t: number }[];
  return { scores: rows.map((r) => r.s), threshold: rows.length > 0 ? rows[0].t : null };
}
