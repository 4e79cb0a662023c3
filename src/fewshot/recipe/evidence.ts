/**
 * What calibration measured, in the form a recipe keeps it (recipe.json "calibration") and
 * the judge's boundary is derived from. Kept per reference, so adding a reference updates it
 * without recalibrating the others (add-reference.ts).
 */
import type { CalibrationEvidence } from '../../judge/boundary.js';
import type { CalibrationResult } from './calibrate.js';
import type { AnomalyMap } from '../../judge/anomaly-map.js';

export type { CalibrationEvidence };

/** Share of a map's values kept as its upper tail (patch-level normal evidence). */
export const TAIL_SHARE = 0.1;

/** The upper TAIL_SHARE of a map's values, descending, rounded to 1e-5 (JSON size). */
export function upperTail(map: AnomalyMap): number[] {
  const sorted = Float32Array.from(map.data).sort().reverse();
  const n = Math.max(1, Math.round(sorted.length * TAIL_SHARE));
  return Array.from(sorted.subarray(0, n), (x) => Math.round(x * 1e5) / 1e5);
}

export function evidenceOf(cal: CalibrationResult): CalibrationEvidence {
  return {
    heldOut: [...cal.heldOutScores],
    heldOutTails: cal.heldOutMaps.map(upperTail),
    perturbed: [...cal.perturbedScores],
    perturbedTails: cal.perturbedMaps.map(upperTail),
    synthetic: [...cal.syntheticScores],
  };
}
