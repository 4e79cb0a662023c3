/**
 * The threshold-free decision boundary (pure): derived only from what calibration measured
 * on the recipe's own normal references. Nobody types a threshold; no number in the rule is
 * fitted to a data set's scores (but the rule was picked among candidates: see the end).
 *
 * Rule (issue 11): the boundary is the score a normal part exceeds with probability α, the
 * recipe's false-reject target (an operating requirement the plant states; default
 * DEFAULT_FALSE_REJECT). The image score is the maximum over the anomaly map, so by
 * extreme-value theory the normal image score is
 * Gumbel-distributed (a maximum of many patch scores with an exponential-type tail), with
 * scale β equal to the tail scale of the patch scores — unchanged by the correlation between
 * neighbouring patches, which only shifts the location. Hence:
 *   - β = the median over held-out maps of each map's mean excess of its patch scores over
 *     its 90th percentile (hundreds of patch scores per map even at k = 2; the median over
 *     maps, so one odd reference's map does not set it);
 *   - μ = median(normal image scores) + β·ln(ln 2) (Gumbel median = μ − β·ln(ln 2)): the
 *     median, so one odd reference does not move the boundary;
 *   - threshold = μ + β·(−ln(−ln(1 − α))).
 * Normal evidence: the held-out (leave-one-out) maps, k ≥ 2. They are scored against k − 1
 * references, not k, so they run a little high and the measured false-reject rate comes out
 * at or below α. The 90th percentile (where the tail begins) is the usual peaks-over-
 * threshold choice, not tuned.
 *
 * With one reference (k = 1) there is no held-out evidence, only perturbed copies of the
 * reference, which match their own bank far better than another part would (measured: good
 * parts score 1.1–2× the perturbed copies' median, more for parts that turn on the line). No
 * quantile of that sample is a false-reject rate, so the boundary is put halfway between the
 * median perturbed score and the median synthetic-defect score — the midpoint, as the one
 * choice that favours neither error without knowing how far real parts vary. If synthetic
 * defects do not score above the perturbations, the Gumbel rule on the perturbations.
 * Adding a reference (add-reference.ts) turns a 1-shot recipe into one with held-out evidence.
 *
 * Selection: the Gumbel rule (and α = 5 %) and the k = 1 midpoint were chosen after comparing
 * candidates (Gumbel on the mean or the median, α = 1/5/10 %, β pooled or per-map median, a
 * balanced-error point against the synthetic defects, the midpoint) on the four shared
 * evaluation sets: README "Measured".
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

/** What calibration measured (recipe/evidence.ts), as a recipe keeps it. */
export interface CalibrationEvidence {
  /** Image scores of held-out references (each against a bank without it; k ≥ 2). */
  readonly heldOut: readonly number[];
  /** Per held-out reference, the upper 10 % of its map values, descending. */
  readonly heldOutTails?: readonly (readonly number[])[];
  /** Image scores of perturbed copies of the references. */
  readonly perturbed: readonly number[];
  readonly perturbedTails?: readonly (readonly number[])[];
  /** Image scores of synthetic defects pasted onto references. */
  readonly synthetic: readonly number[];
  /**
   * References added from the line (add-reference.ts): each one's score before it was added.
   * Kept for the record; not normal evidence (they were selected for scoring high).
   */
  readonly added?: readonly { readonly name: string; readonly score: number; readonly tail: readonly number[] }[];
  /** How many of the held-out scores are frames from the line (recipe/line-evidence.ts), not references. */
  readonly line?: number;
}

export const DEFAULT_FALSE_REJECT = 0.05;

/** Gumbel scale from upper tails: median over maps of each tail's mean excess over its own start. */
export function tailScale(tails: readonly (readonly number[])[]): number {
  const excess: number[] = [];
  for (const t of tails) {
    if (t.length < 2) continue;
    const floor = Math.min(...t);
    excess.push(t.reduce((a, x) => a + x - floor, 0) / t.length);
  }
  return excess.length > 0 ? median(excess.sort((a, b) => a - b)) : 0;
}

export function deriveBoundary(e: CalibrationEvidence, alpha = DEFAULT_FALSE_REJECT): Boundary {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`deriveBoundary: false-reject target ${alpha} not in (0, 1)`);
  const useHeld = e.heldOut.length > 0;
  const maxima = useHeld ? e.heldOut : e.perturbed;
  const tails = (useHeld ? e.heldOutTails : e.perturbedTails) ?? [];
  if (maxima.length === 0) throw new RangeError('deriveBoundary: no normal evidence (need ≥ 2 references or ≥ 1 perturbation)');
  const level = median([...maxima].sort((a, b) => a - b));
  // Without tails (a recipe from before they were kept), the spread of the maxima themselves.
  const fromTails = tailScale(tails);
  const beta = Math.max(fromTails > 0 ? fromTails : maxima.length >= 2 ? (stdev(maxima) * Math.sqrt(6)) / Math.PI : 0, 1e-6);
  const synthetic = e.synthetic.length ? median([...e.synthetic].sort((a, b) => a - b)) : Number.NaN;
  if (!useHeld && synthetic > level) {
    return {
      threshold: (level + synthetic) / 2,
      scale: beta,
      rule: `midpoint(perturbed median ${level.toPrecision(3)}, synthetic median ${synthetic.toPrecision(3)}), one reference`,
      normalLevel: level,
      defectLevel: synthetic,
    };
  }
  const mu = level + beta * Math.log(Math.LN2);
  const threshold = mu + beta * -Math.log(-Math.log(1 - alpha));
  return {
    threshold,
    scale: beta,
    rule: `gumbel(${useHeld ? 'held-out' : 'perturbed'}, n=${maxima.length}, β=${beta.toPrecision(3)}) at ${+(alpha * 100).toPrecision(3)} % false rejects`,
    normalLevel: level,
    defectLevel: Number.isNaN(synthetic) ? threshold : synthetic,
  };
}

function stdev(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
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
