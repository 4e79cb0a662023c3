/**
 * The drift watch's rule (issue 10 item 6; pure): are normal parts creeping toward the
 * recipe's boundary? Nothing in it is fitted to data; the fractions are plain statements
 * about how much of the margin is left.
 *
 *   margin at calibration  M₀ = boundary − median(calibration normal scores)
 *                               (the normal evidence the boundary was derived from: the
 *                               held-out scores, or the perturbations' when k = 1)
 *   margin now             M  = boundary − median(the last N judge-passed scores)
 *   m = M / M₀             (1: passes score like the references did; 0: at the boundary)
 *
 *   m ≥ ½       'ok'        normal parts have used less than half of the references' margin
 *   ¼ ≤ m < ½   'watch'     they have used half of it
 *   m < ¼       'drifting'  they have used three quarters of it: false rejects are near
 *
 * With fewer than `minimum` passes in the window (default 30 of N = 200) the median is too
 * noisy to act on: 'insufficient'. So is a recipe without normal evidence, or one whose
 * boundary does not lie above its normals' median (M₀ ≤ 0: no margin to measure against).
 */

export type DriftStateName = 'ok' | 'watch' | 'drifting' | 'insufficient';

export const DRIFT_WINDOW = 200;
export const DRIFT_MINIMUM = 30;
export const DRIFT_WATCH_BELOW = 0.5;
export const DRIFT_DRIFTING_BELOW = 0.25;

export interface DriftInput {
  /** The judge's scores of the most recent passes (any order; the newest `window` are used). */
  readonly passScores: readonly number[];
  readonly boundary: number;
  /** The recipe's calibration normal scores (the evidence its boundary came from). */
  readonly normalScores: readonly number[];
}

export interface DriftReport {
  readonly state: DriftStateName;
  /** m = M / M₀ (null when insufficient). */
  readonly margin: number | null;
  /** Passes in the window. */
  readonly passes: number;
  readonly window: number;
  readonly boundary: number;
  /** Median of the window's pass scores (null when empty). */
  readonly medianPass: number | null;
  /** Median of the calibration normal scores (null when none). */
  readonly medianReference: number | null;
  /** Why the state is 'insufficient' (absent otherwise). */
  readonly reason?: string;
}

export function median(values: readonly number[]): number | null {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

export function stateOfMargin(m: number): Exclude<DriftStateName, 'insufficient'> {
  if (m >= DRIFT_WATCH_BELOW) return 'ok';
  if (m >= DRIFT_DRIFTING_BELOW) return 'watch';
  return 'drifting';
}

/**
 * The drift state of one recipe. `passScores` should be newest first when longer than the
 * window (the first `window` are used).
 */
export function driftOf(input: DriftInput, options: { window?: number; minimum?: number } = {}): DriftReport {
  const window = options.window ?? DRIFT_WINDOW;
  const minimum = options.minimum ?? DRIFT_MINIMUM;
  const recent = input.passScores.slice(0, window);
  const medianPass = median(recent);
  const medianReference = median(input.normalScores);
  const base = { passes: recent.length, window, boundary: input.boundary, medianPass, medianReference };
  if (recent.length < minimum) return { ...base, state: 'insufficient', margin: null, reason: `${recent.length} of the ${minimum} passes needed` };
  if (medianReference === null) return { ...base, state: 'insufficient', margin: null, reason: 'the recipe has no calibration normal scores' };
  const m0 = input.boundary - medianReference;
  if (!(m0 > 0)) return { ...base, state: 'insufficient', margin: null, reason: 'the boundary is not above the references\' median score' };
  const m = (input.boundary - medianPass!) / m0;
  return { ...base, state: stateOfMargin(m), margin: m };
}
