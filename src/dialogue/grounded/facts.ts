/**
 * The facts an answer is made of. Every number and name a grounded answer shows goes through
 * here: the sheet records the value looked up, where it came from and the exact text shown, and
 * returns that text for the sentence — so an answer cannot carry a figure nobody looked up, and
 * the page gets the figures beside the words (done.grounded.facts).
 */
import type { Fact, FactSource } from '../types.js';

/** Scores: 3 significant digits below 1 (0.532, 0.0871), else 2 decimals. */
export function formatScore(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1) return x.toFixed(2);
  if (a < 1e-4) return x.toExponential(2);
  return x.toPrecision(3);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time "2025-03-14 10:00:05" (the daemon's TZ, as the technician's clock on the line). */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export class FactSheet {
  readonly facts: Fact[] = [];

  /** Records a fact and returns the text to show for it. */
  add(key: string, value: Fact['value'], shown: string, source: FactSource, unit?: string): string {
    if (this.facts.some((x) => x.key === key && x.shown === shown)) return shown;
    this.facts.push({ key, value, source, shown, ...(unit ? { unit } : {}) });
    return shown;
  }

  score(key: string, value: number, source: FactSource = 'inspection'): string {
    return this.add(key, value, formatScore(value), source);
  }

  /** A percentage, one decimal: "29.8 %". */
  percent(key: string, value: number, source: FactSource): string {
    return this.add(key, value, `${value.toFixed(1)} %`, source, '%');
  }

  /** A whole number (counts, pixels). */
  count(key: string, value: number, source: FactSource, unit?: string): string {
    return this.add(key, value, String(Math.round(value)), source, unit);
  }

  ms(key: string, value: number, source: FactSource = 'inspection'): string {
    return this.add(key, value, `${value.toFixed(1)} ms`, source, 'ms');
  }

  time(key: string, epochMs: number, source: FactSource): string {
    return this.add(key, epochMs, formatTime(epochMs), source, 'epoch ms');
  }

  name(key: string, value: string, source: FactSource): string {
    return this.add(key, value, value, source);
  }
}
