/**
 * Time ranges named in a question, in the daemon's local time (TZ). Pure: `now` is given.
 *
 * | says                                        | range [from, to)                                      |
 * |---------------------------------------------|-------------------------------------------------------|
 * | today, so far today, since midnight         | 00:00 today → now                                     |
 * | yesterday                                   | 00:00 yesterday → 00:00 today                         |
 * | since yesterday                             | 00:00 yesterday → now                                 |
 * | this week                                   | Monday 00:00 (ISO 8601 week) → now                    |
 * | this month                                  | the 1st 00:00 → now                                   |
 * | last/past hour, last N hours, last 24h      | now − N h → now (N may be a word: one … twelve)       |
 * | last/past N minutes, N days, week, day      | now − N min / N × 24 h / 7 × 24 h / 24 h → now        |
 * | since 06:00, since 6, since 6am, since 2 pm | the latest such clock time not after now → now        |
 * | since noon                                  | 12:00 → now (the latest noon not after now)           |
 *
 * The words are matched after typo correction against a small vocabulary ("yesterdy", "todya",
 * "hours" ← "hrs"), the first range found wins, and `rest` is the question without it (so
 * "past" in "the past hour" does not read as "past fails").
 */
import { editDistance, isCommonWord } from './words.js';

export interface TimeRange {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** How the range was named. */
  readonly kind: 'today' | 'yesterday' | 'since-yesterday' | 'this-week' | 'this-month' | 'last' | 'since';
  /** True when the range ends now. */
  readonly untilNow: boolean;
}

export interface ParsedRange {
  readonly range: TimeRange;
  /** The question without the words that named the range. */
  readonly rest: string;
}

const VOCABULARY = ['today', 'yesterday', 'week', 'month', 'hour', 'hours', 'minute', 'minutes', 'day', 'days', 'since', 'last', 'past', 'this', 'midnight', 'noon'];
const NUMBER_WORDS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12 };
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Words corrected to the vocabulary (one typo from 4 letters, two from 8), digits and "06:00" kept. */
function tokens(question: string): string[] {
  const raw = question.toLowerCase().replace(/['’`]/g, '').match(/\d{1,2}:\d{2}|[a-z0-9]+/g) ?? [];
  return raw.map((w) => {
    if (/\d/.test(w) || VOCABULARY.includes(w) || isCommonWord(w) || w.length < 4) return w;
    const tol = w.length >= 8 ? 2 : 1;
    return VOCABULARY.find((v) => v.length >= 4 && editDistance(w, v, tol) <= tol) ?? w;
  });
}

function unitOf(word: string): keyof typeof UNIT_MS | undefined {
  if (/^(minutes?|mins?)$/.test(word)) return 'm';
  if (/^(hours?|hrs?|h)$/.test(word)) return 'h';
  if (/^days?$/.test(word)) return 'd';
  if (/^weeks?$/.test(word)) return 'w';
  return undefined;
}

function startOfDay(t: number, daysBack = 0): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysBack);
  return d.getTime();
}

/** The latest local time hh:mm not after `now`. */
function latestClock(now: number, hours: number, minutes: number): number {
  const d = new Date(now);
  d.setHours(hours, minutes, 0, 0);
  if (d.getTime() > now) d.setDate(d.getDate() - 1);
  return d.getTime();
}

/** A clock time at ts[i…]: "06:00", "6", "6am", "6 pm"; returns hours, minutes and the words used. */
function clockAt(ts: readonly string[], i: number): { h: number; m: number; used: number } | undefined {
  const w = ts[i];
  if (w === undefined) return undefined;
  if (w === 'midnight') return { h: 0, m: 0, used: 1 };
  if (w === 'noon') return { h: 12, m: 0, used: 1 };
  const m = /^(\d{1,2})(?::(\d{2}))?(am|pm)?$/.exec(w);
  if (!m) return undefined;
  let h = Number(m[1]);
  const min = m[2] ? Number(m[2]) : 0;
  let suffix = m[3];
  let used = 1;
  if (!suffix && (ts[i + 1] === 'am' || ts[i + 1] === 'pm')) (suffix = ts[i + 1]), (used = 2);
  if (suffix) {
    if (h < 1 || h > 12) return undefined;
    h = (h % 12) + (suffix === 'pm' ? 12 : 0);
  }
  if (h > 23 || min > 59) return undefined;
  return { h, m: min, used };
}

export function parseTimeRange(question: string, now: number): ParsedRange | undefined {
  const ts = tokens(question);
  const cut = (i: number, n: number, range: TimeRange): ParsedRange => ({ range, rest: [...ts.slice(0, i), ...ts.slice(i + n)].join(' ') });
  for (let i = 0; i < ts.length; i++) {
    const w = ts[i];
    if (w === 'today') {
      const soFar = ts[i - 1] === 'far' && ts[i - 2] === 'so' ? 2 : 0;
      return cut(i - soFar, 1 + soFar, { from: startOfDay(now), to: now, kind: 'today', untilNow: true });
    }
    if (w === 'yesterday') {
      if (ts[i - 1] === 'since') return cut(i - 1, 2, { from: startOfDay(now, 1), to: now, kind: 'since-yesterday', untilNow: true });
      return cut(i, 1, { from: startOfDay(now, 1), to: startOfDay(now), kind: 'yesterday', untilNow: false });
    }
    if (w === 'this' && ts[i + 1] === 'week') {
      const d = new Date(startOfDay(now));
      d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); // back to Monday
      return cut(i, 2, { from: d.getTime(), to: now, kind: 'this-week', untilNow: true });
    }
    if (w === 'this' && ts[i + 1] === 'month') {
      const d = new Date(startOfDay(now));
      d.setDate(1);
      return cut(i, 2, { from: d.getTime(), to: now, kind: 'this-month', untilNow: true });
    }
    if ((w === 'last' || w === 'past' || w === 'previous') && ts[i + 1] !== undefined) {
      let n = 1;
      let k = i + 1;
      const count = /^\d+$/.test(ts[k]) ? Number(ts[k]) : Object.hasOwn(NUMBER_WORDS, ts[k]) ? NUMBER_WORDS[ts[k]] : undefined;
      if (count !== undefined) (n = count), k++;
      // "last 24h": number and unit in one word.
      const joined = /^(\d+)(h|hrs?|hours?|mins?|minutes?|d|days?)$/.exec(ts[i + 1]);
      if (joined) (n = Number(joined[1])), (k = i + 2);
      const unit = joined ? unitOf(joined[2] === 'd' ? 'day' : joined[2]) : unitOf(ts[k]);
      if (unit && n > 0 && n <= 10_000) return cut(i, k - i + (joined ? 0 : 1), { from: now - n * UNIT_MS[unit], to: now, kind: 'last', untilNow: true });
    }
    if (w === 'since') {
      const c = clockAt(ts, i + 1);
      if (c) return cut(i, 1 + c.used, { from: latestClock(now, c.h, c.m), to: now, kind: c.h === 0 && c.m === 0 ? 'today' : 'since', untilNow: true });
    }
  }
  return undefined;
}
