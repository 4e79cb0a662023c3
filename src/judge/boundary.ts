/**
 * The threshold-free decision boundary (pure): derived only from the scores that the
 * recipe's own normal references got during calibration (held-out and perturbed copies).
 * Nobody types a threshold.
 */

export interface Boundary {
  /** Scores above this fail. */
  readonly threshold: number;
  /** Spread of the normal scores; sets how fast confidence grows away from the threshold. */
  readonly scale: number;
  readonly rule: string;
}

export function deriveBoundary(normalScores: readonly number[]): Boundary {
  if (normalScores.length === 0) throw new RangeError('deriveBoundary: no normal scores');
  const sorted = [...normalScores].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1];
  const median = sorted[Math.floor(sorted.length / 2)];
  const scale = Math.max(max - median, 1e-6);
  return { threshold: max, scale, rule: 'max-normal' };
}

/** Fail when above the threshold; confidence 0.5 at the boundary, → 1 away from it. */
export function decide(score: number, b: Boundary): { fail: boolean; confidence: number } {
  const z = (score - b.threshold) / b.scale;
  const p = 1 / (1 + Math.exp(-2 * z));
  return { fail: score > b.threshold, confidence: score > b.threshold ? p : 1 - p };
}
