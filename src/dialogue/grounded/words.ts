/**
 * Words of a question and how they match the terms of the topic table (topics.ts), tolerant of
 * case, punctuation and typos. Pure.
 *
 * A term is a word ("where") or a stem ending in "*" ("confiden*": confidence, confident…).
 * A word matches a term exactly, or — when it is not itself a known term or a common English
 * word — within a small edit distance (optimal string alignment: insertions, deletions,
 * substitutions and swaps of neighbours each cost 1): 1 for words of 4–7 letters, 2 from 8
 * letters, none below 4, and stems shorter than 5 letters match exactly only ("wher",
 * "confidnce", "yeild", "simmilar" match; "are" never becomes "area", "were" never "where",
 * "fall" never "fail*").
 */

/** Lower case, apostrophes dropped ("what's" → "whats"), split on anything but letters and digits. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’`]/g, '')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Common words never read as typos of a term (they are words in their own right). */
const COMMON = new Set(
  (
    'a an and any are as at be been being but by can could did do does done for from had has have he her here his how i if in into is it its ' +
    'just me more most much my no not now of on one only or our out over part parts she so some than that the their them then there these they ' +
    'this those to too us very was we were what whats when which who whom whose why with would you your yours all also along another made make ' +
    'many may might must shall should will yes get got give show tell let see look say said'
  ).split(' '),
);

export interface Term {
  readonly stem: string;
  readonly prefix: boolean;
}

export function term(text: string): Term {
  return text.endsWith('*') ? { stem: text.slice(0, -1), prefix: true } : { stem: text, prefix: false };
}

function tolerance(length: number): number {
  return length >= 8 ? 2 : length >= 4 ? 1 : 0;
}

/** Optimal string alignment distance, stopping early once it must exceed `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
  }
  return rows[a.length][b.length];
}

/** Runs of one letter squeezed to one ("simmilar" → "similar"). */
const squeeze = (w: string): string => w.replace(/(.)\1+/g, '$1');

export function exactMatch(word: string, t: Term): boolean {
  return t.prefix ? word.startsWith(t.stem) : word === t.stem;
}

/**
 * Whether `word` matches `t`, typos allowed; `known(word)` says the word is itself a term of
 * the table (then only exact matches count, so "rate" never matches "date").
 */
export function matchesTerm(word: string, t: Term, known: (word: string) => boolean): boolean {
  if (exactMatch(word, t)) return true;
  if (COMMON.has(word) || /\d/.test(word) || known(word)) return false;
  // A doubled or tripled letter ("whyy", "simmilar") is no new word, even for short terms.
  const single = squeeze(word);
  if (t.prefix ? t.stem.length >= 5 && single.startsWith(squeeze(t.stem)) : single === squeeze(t.stem)) return true;
  const tol = tolerance(Math.min(word.length, t.stem.length));
  if (tol === 0) return false;
  if (!t.prefix) return editDistance(word, t.stem, tol) <= tol;
  // A stem: the word's beginning, one letter shorter or longer (a dropped or doubled letter).
  // Short stems (fail*, pass*) match exactly only: "fall" and "past" are other words.
  if (t.stem.length < 5) return false;
  for (const n of [t.stem.length - 1, t.stem.length, t.stem.length + 1]) {
    if (n <= word.length && editDistance(word.slice(0, n), t.stem, tol) <= tol) return true;
  }
  return false;
}

export function isCommonWord(word: string): boolean {
  return COMMON.has(word);
}
