/**
 * The anomaly map every inspection path produces (few-shot scorer, AnomalyGPT decoder), the
 * frame rectangle it covers, and the image score the judge decides on. Pure: imports nothing
 * internal, so both paths and the judge can share it without depending on each other.
 */

export interface AnomalyMap {
  /** Row-major mapHeight×mapWidth, ~0 for normal patches, higher for anomalous ones. */
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** The frame rectangle the model input covers (frame pixels). */
export interface CropRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type ImageScoreRule =
  | { readonly kind: 'max' }
  | { readonly kind: 'top-mean'; readonly fraction: number }
  /** max − median: a local peak over the image's own level of mismatch. */
  | { readonly kind: 'peak-over-median' };

/** Image score from the map: the seed uses the max (SPEC §3 "Image-level score"). */
export function imageScore(map: AnomalyMap, rule: ImageScoreRule): number {
  const d = map.data;
  if (rule.kind === 'max') {
    let m = -Infinity;
    for (let i = 0; i < d.length; i++) if (d[i] > m) m = d[i];
    return m;
  }
  const sorted = Float32Array.from(d).sort();
  if (rule.kind === 'peak-over-median') return sorted[sorted.length - 1] - sorted[sorted.length >> 1];
  const k = Math.max(1, Math.round(d.length * rule.fraction));
  let s = 0;
  for (let i = sorted.length - k; i < sorted.length; i++) s += sorted[i];
  return s / k;
}
