/**
 * Counts and yield over a time range, from one aggregate query of the record (counts per
 * camera; no rows loaded). The range is the one the question named, else the last 24 hours
 * (said so); the scope is this inspection's camera, a camera the question named, or every
 * camera ("all", "line", "overall"…). Yield = passed / inspected. The record holds only what
 * retention kept: when the range starts before its oldest row, the answer says from when it
 * counts.
 */
import type { CameraCounts } from '../../../archive/record-queries.js';
import { type AnswerContext, plural } from './context.js';
import type { FactSheet } from '../facts.js';

export const DEFAULT_RANGE_MS = 24 * 3_600_000;

function rangeText(c: AnswerContext, from: number, to: number): string {
  const f = c.f;
  const r = c.range;
  const span = `from ${f.time('range.from', from, r ? 'question' : 'clock')} to ${f.time('range.to', to, r ? 'question' : 'clock')}`;
  if (!r) return `${span} (you named no time range, so the last ${f.count('range.hours', DEFAULT_RANGE_MS / 3_600_000, 'clock', 'h')} hours)`;
  switch (r.kind) {
    case 'today': return `${span} (today)`;
    case 'yesterday': return `${span} (yesterday)`;
    case 'since-yesterday': return `${span} (since yesterday)`;
    case 'this-week': return `${span} (this week, from Monday)`;
    case 'this-month': return `${span} (this month)`;
    case 'last': return `${span} (the last ${duration(f, r.to - r.from)})`;
    case 'since': return span;
  }
}

/** "24 hours", "90 minutes", "7 days". */
function duration(f: FactSheet, ms: number): string {
  const [n, unit] = ms % 86_400_000 === 0 && ms >= 2 * 86_400_000 ? [ms / 86_400_000, 'day'] : ms % 3_600_000 === 0 ? [ms / 3_600_000, 'hour'] : [Math.round(ms / 60_000), 'minute'];
  return n === 1 ? unit : `${f.count(`range.${unit}s`, n, 'question', unit)} ${plural(n, unit)}`;
}

function line(c: AnswerContext, k: string, x: CameraCounts | undefined): string {
  const f = c.f;
  const n = x?.inspected ?? 0;
  if (n === 0) return `${f.count(`${k}inspected`, 0, 'archive')} inspected`;
  return (
    `${f.count(`${k}inspected`, n, 'archive')} inspected, ${f.count(`${k}passed`, x!.passed, 'archive')} passed, ` +
    `${f.count(`${k}failed`, x!.failed, 'archive')} failed: yield ${f.percent(`${k}yield`, (x!.passed / n) * 100, 'archive')}`
  );
}

export function countsAnswer(c: AnswerContext): string {
  const f = c.f;
  const v = c.inspection.verdict;
  const from = c.range?.from ?? c.now - DEFAULT_RANGE_MS;
  const to = c.range?.to ?? c.now;
  const camera = c.allCameras ? undefined : (c.camera ?? v.cameraId);
  const rows = c.archive.counts({ from, to, ...(camera !== undefined ? { camera } : {}) });
  const out: string[] = [];
  const when = rangeText(c, from, to);
  if (camera !== undefined) {
    out.push(`Camera ${f.name('camera', camera, camera === v.cameraId ? 'inspection' : 'question')}, ${when}: ${line(c, 'counts.', rows[0])}.`);
  } else {
    const total = rows.reduce<CameraCounts>(
      (a, r) => ({ camera: 'all', inspected: a.inspected + r.inspected, passed: a.passed + r.passed, failed: a.failed + r.failed, firstAt: Math.min(a.firstAt, r.firstAt), lastAt: Math.max(a.lastAt, r.lastAt) }),
      { camera: 'all', inspected: 0, passed: 0, failed: 0, firstAt: Infinity, lastAt: -Infinity },
    );
    out.push(`All cameras, ${when}: ${line(c, 'counts.', total)}.`);
    if (rows.length > 1) for (const r of rows) out.push(`- ${f.name(`counts.${r.camera}.camera`, r.camera, 'archive')}: ${line(c, `counts.${r.camera}.`, r)}`);
  }
  const oldest = c.archive.oldestCapturedAt();
  if (oldest !== null && oldest > from) {
    out.push(`The record holds nothing captured before ${f.time('record.oldest', oldest, 'archive')} (it started then, or retention removed older rows), so the count covers only what came after.`);
  }
  return out.join('\n');
}
