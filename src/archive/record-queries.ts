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
