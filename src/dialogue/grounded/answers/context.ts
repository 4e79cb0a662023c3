/**
 * What every topic's answer gets: the inspection, the peers to look things up in, the range or
 * camera the question named, and the fact sheet the answer writes its figures through.
 */
import type { RecordedInspection } from '../../../archive/record-schema.js';
import type { FactSheet } from '../facts.js';
import type { GroundedArchive, RecipeLookup } from '../ports.js';
import type { TimeRange } from '../time-range.js';

export interface AnswerContext {
  readonly inspection: RecordedInspection;
  readonly archive: GroundedArchive;
  readonly recipes?: RecipeLookup;
  readonly range?: TimeRange;
  /** A camera the question named (counts), or undefined. */
  readonly camera?: string;
  /** The question asked for every camera. */
  readonly allCameras: boolean;
  readonly now: number;
  readonly f: FactSheet;
}

/** The few-shot judge's own figures, whoever decided (undefined for an LLM decision recorded without them). */
export interface JudgeView {
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly confidence: number;
}

export function judgeView(i: RecordedInspection): JudgeView | undefined {
  const v = i.verdict;
  if (v.judge) return v.judge;
  if (v.decidedBy === 'llm') return undefined;
  return { pass: v.pass, score: v.score, threshold: v.threshold, confidence: v.confidence };
}

export const result = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

export const plural = (n: number, one: string, many = `${one}s`): string => (n === 1 ? one : many);

/** "a, b and c". */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Score against boundary: which side, and the distance — absolute and, when the boundary is
 * positive, as a share of it: { side: 'above', by: '0.120 (30.0 % of the boundary)' }; side
 * 'at' when they are equal (a part fails only above the boundary).
 */
export function margin(f: FactSheet, prefix: string, score: number, threshold: number): { side: 'above' | 'below' | 'at'; by: string } {
  const d = score - threshold;
  if (d === 0) return { side: 'at', by: '' };
  const abs = f.score(`${prefix}margin`, Math.abs(d));
  const pct = threshold > 0 ? ` (${f.percent(`${prefix}marginPercent`, (Math.abs(d) / threshold) * 100, 'inspection')} of the boundary)` : '';
  return { side: d > 0 ? 'above' : 'below', by: `${abs}${pct}` };
}

/** "is above the boundary 0.400 by 0.120 (30.0 % of the boundary)"; `what` names the boundary. */
export function against(f: FactSheet, prefix: string, score: number, threshold: number, what: string): string {
  const m = margin(f, prefix, score, threshold);
  const th = f.score(`${prefix}threshold`, threshold);
  return m.side === 'at' ? `is exactly at ${what} ${th} (a part fails only above it)` : `is ${m.side} ${what} ${th} by ${m.by}`;
}
