/**
 * Evaluation metrics, matching the AnomalyGPT test scripts (SPEC §6 "Binary prediction and
 * metrics"): image AUROC = sklearn `roc_auc_score(label, max(map))`, pixel AUROC over all map
 * pixels vs. the ground-truth masks, and the threshold-free accuracy as the mean of the
 * per-class accuracies on good and defective images. Pure: imports nothing internal.
 * Label 1 = defective (the positive class), 0 = good.
 */

function checkPairs(scores: ArrayLike<unknown>, labels: ArrayLike<unknown>, what: string): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`${what}: ${scores.length} scores but ${labels.length} labels`);
  }
}

/** Indices sorted by score ascending; rejects NaN (sklearn does too). */
function sortedIndex(scores: ArrayLike<number>, what: string): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`${what}: score ${i} is NaN`);
    idx[i] = i;
  }
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx;
}

/**
 * Exact area under the ROC curve via the Mann–Whitney U statistic with average ranks for
 * ties — identical to sklearn's roc_auc_score (a positive/negative tie counts ½).
 * O(n log n). Returns NaN when only one class is present (sklearn raises there).
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>): number {
  checkPairs(scores, labels, 'auroc');
  const idx = sortedIndex(scores, 'auroc');
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] === 1) { pos++; rankSumPos += avgRank; }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface RocCurve {
  readonly fpr: number[];
  readonly tpr: number[];
  /** Descending; the first is +Infinity (the (0,0) point), as in sklearn ≥ 1.3. */
  readonly thresholds: number[];
}

/**
 * ROC points at every distinct score (predict positive when score ≥ threshold).
 * With `dropIntermediate` (sklearn's default) collinear points are removed, which keeps plots
 * small without changing the curve.
 */
export function rocCurve(
  scores: ArrayLike<number>, labels: ArrayLike<0 | 1>, options: { dropIntermediate?: boolean } = {},
): RocCurve {
  checkPairs(scores, labels, 'rocCurve');
  const idx = sortedIndex(scores, 'rocCurve');
  let P = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) P++;
  const N = labels.length - P;
  const tps = [0];
  const fps = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let i = idx.length - 1; i >= 0;) {
    const s = scores[idx[i]];
    while (i >= 0 && scores[idx[i]] === s) {
      if (labels[idx[i]] === 1) tp++; else fp++;
      i--;
    }
    tps.push(tp);
    fps.push(fp);
    thresholds.push(s);
  }
  return finishCurve(tps, fps, thresholds, P, N, options.dropIntermediate ?? false);
}

function finishCurve(
  tps: number[], fps: number[], thresholds: number[], P: number, N: number, drop: boolean,
): RocCurve {
  let keep = tps.map((_, i) => i);
  if (drop && tps.length > 2) {
    // sklearn: keep ends and points where the second difference of fps or tps is non-zero.
    keep = keep.filter((i) => i === 0 || i === tps.length - 1
      || fps[i + 1] - 2 * fps[i] + fps[i - 1] !== 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] !== 0);
  }
  return {
    fpr: keep.map((i) => (N > 0 ? fps[i] / N : Number.NaN)),
    tpr: keep.map((i) => (P > 0 ? tps[i] / P : Number.NaN)),
    thresholds: keep.map((i) => thresholds[i]),
  };
}

/**
 * Pixel AUROC over tens of millions of pixels in bounded memory: scores go into a fixed
 * histogram over [min, max] (values outside are clamped into the end bins), one for defect
 * pixels and one for good pixels. The result treats all pairs inside one bin as ties (½).
 *
 * Approximation error: only positive/negative pairs that share a bin can be mis-scored, each
 * by at most ½, so |approx − exact| ≤ ½·Σ_b pos_b·neg_b / (P·N) — reported exactly by
 * `maxError()`. With 2^16 bins over the true range this is typically < 1e-4.
 * Memory: 2 × bins Float64 counters (1 MiB at 2^16), independent of the pixel count.
 */
export class PixelAurocAccumulator {
  readonly min: number;
  readonly max: number;
  readonly bins: number;
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;
  private readonly scale: number;
  private readonly truthAbove: number;

  /**
   * @param truthAbove a truth value counts as defect when strictly above this. Default 0 (0/255
   *   masks). For bilinearly resized MVTec masks the SPEC rule is > 0.1 of full scale (25.5 on 0…255).
   */
  constructor(range: { min: number; max: number }, options: { bins?: number; truthAbove?: number } = {}) {
    const bins = options.bins ?? 65536;
    if (!(range.max > range.min) || !Number.isFinite(range.min) || !Number.isFinite(range.max)) {
      throw new RangeError(`PixelAurocAccumulator: bad range [${range.min}, ${range.max}]`);
    }
    if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`PixelAurocAccumulator: bad bin count ${bins}`);
    this.min = range.min;
    this.max = range.max;
    this.bins = bins;
    this.pos = new Float64Array(bins);
    this.neg = new Float64Array(bins);
    this.scale = bins / (range.max - range.min);
    this.truthAbove = options.truthAbove ?? 0;
  }

  /** Add one image: its map scores and its truth mask, same length and layout. */
  add(scores: ArrayLike<number>, truth: ArrayLike<number>): void {
    checkPairs(scores, truth, 'PixelAurocAccumulator.add');
    const last = this.bins - 1;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      if (Number.isNaN(s)) throw new RangeError(`PixelAurocAccumulator.add: score ${i} is NaN`);
      let b = Math.floor((s - this.min) * this.scale);
      if (b < 0) b = 0; else if (b > last) b = last;
      if (truth[i] > this.truthAbove) this.pos[b]++; else this.neg[b]++;
    }
  }

  /** Pixel counts so far. */
  get counts(): { positive: number; negative: number } {
    let p = 0;
    let n = 0;
    for (let b = 0; b < this.bins; b++) { p += this.pos[b]; n += this.neg[b]; }
    return { positive: p, negative: n };
  }

  /** Histogram AUROC; NaN when one class is missing. */
  auroc(): number {
    let negBelow = 0;
    let sum = 0;
    let P = 0;
    for (let b = 0; b < this.bins; b++) {
      sum += this.pos[b] * (negBelow + 0.5 * this.neg[b]);
      negBelow += this.neg[b];
      P += this.pos[b];
    }
    if (P === 0 || negBelow === 0) return Number.NaN;
    return sum / (P * negBelow);
  }

  /** Upper bound on |auroc() − exact AUROC| for the data added so far. */
  maxError(): number {
    let same = 0;
    for (let b = 0; b < this.bins; b++) same += this.pos[b] * this.neg[b];
    const { positive, negative } = this.counts;
    return positive === 0 || negative === 0 ? Number.NaN : (0.5 * same) / (positive * negative);
  }

  /** ROC curve at the bin edges (threshold = lower edge of each non-empty bin), for plotting. */
  curve(options: { dropIntermediate?: boolean } = {}): RocCurve {
    const tps = [0];
    const fps = [0];
    const thresholds = [Number.POSITIVE_INFINITY];
    let tp = 0;
    let fp = 0;
    for (let b = this.bins - 1; b >= 0; b--) {
      if (this.pos[b] === 0 && this.neg[b] === 0) continue;
      tp += this.pos[b];
      fp += this.neg[b];
      tps.push(tp);
      fps.push(fp);
      thresholds.push(this.min + b / this.scale);
    }
    return finishCurve(tps, fps, thresholds, tp, fp, options.dropIntermediate ?? true);
  }
}

/** One-call pixel AUROC over many (scores, truth) images; see PixelAurocAccumulator. */
export function pixelAuroc(
  images: Iterable<{ scores: ArrayLike<number>; truth: ArrayLike<number> }>,
  range: { min: number; max: number },
  options: { bins?: number; truthAbove?: number } = {},
): { auroc: number; maxError: number } {
  const acc = new PixelAurocAccumulator(range, options);
  for (const im of images) acc.add(im.scores, im.truth);
  return { auroc: acc.auroc(), maxError: acc.maxError() };
}

export interface Confusion {
  readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number;
  /** Accuracy on defective images (recall); NaN when there are none. */
  readonly tpr: number;
  /** Accuracy on good images; NaN when there are none. */
  readonly tnr: number;
}

/** Confusion counts of fail predictions (true = predicted defective) against labels. */
export function confusion(predFail: ArrayLike<boolean>, labels: ArrayLike<0 | 1>): Confusion {
  checkPairs(predFail, labels, 'confusion');
  let tp = 0; let fp = 0; let tn = 0; let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) { if (predFail[i]) tp++; else fn++; } else if (predFail[i]) fp++; else tn++;
  }
  return { tp, fp, tn, fn, tpr: tp + fn > 0 ? tp / (tp + fn) : Number.NaN, tnr: tn + fp > 0 ? tn / (tn + fp) : Number.NaN };
}

/**
 * Mean of the per-class accuracies on defective and good images, (TPR + TNR) / 2 — the
 * threshold-free accuracy that is not fooled by class imbalance. NaN when a class is absent.
 */
export function balancedAccuracy(predFail: ArrayLike<boolean>, labels: ArrayLike<0 | 1>): number {
  const c = confusion(predFail, labels);
  return (c.tpr + c.tnr) / 2;
}

/**
 * Mean and standard deviation. `ddof` 0 (default, numpy's default) gives the population
 * standard deviation; 1 the sample one. NaN for too few values.
 */
export function meanStd(values: ArrayLike<number>, options: { ddof?: 0 | 1 } = {}): { mean: number; std: number } {
  const n = values.length;
  const ddof = options.ddof ?? 0;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: n - ddof > 0 ? Math.sqrt(ss / (n - ddof)) : Number.NaN };
}
