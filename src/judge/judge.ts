/**
 * The judge: anomaly map → decision, confidence, locations and mask. It owns the decision
 * (DESIGN principle 5); its boundary comes from the recipe's calibration, never from a
 * number someone typed. Regions use the same threshold as the image decision, and the
 * image score is the map's maximum, so every fail has at least one located region and a
 * pass has none.
 */
import { decide, type Boundary } from './boundary.js';
import { gridWord } from './grid-words.js';
import { maskPngInFrame } from './mask-image.js';
import { findRegions } from './regions.js';
import type { DefectLocation, Verdict } from './verdict.js';
import { imageScore, type AnomalyMap, type CropRect, type ImageScoreRule } from './anomaly-map.js';

/** The judge's part of a Verdict (the inspector adds ids, recipe, model and timings). */
export type Judgement = Pick<Verdict, 'pass' | 'confidence' | 'score' | 'threshold' | 'locations' | 'maskPng'>;

export interface JudgeOptions {
  readonly boundary: Boundary;
  readonly score: ImageScoreRule;
  /** Produce the mask PNG for failed frames. */
  readonly masks: boolean;
}

export function judge(map: AnomalyMap, crop: CropRect, frame: { width: number; height: number }, opts: JudgeOptions): Judgement {
  const score = imageScore(map, opts.score);
  const { fail, confidence } = decide(score, opts.boundary);
  const threshold = opts.boundary.threshold;
  if (!fail) return { pass: true, confidence, score, threshold, locations: [] };
  const locations = findRegions(map.data, map.width, map.height, {
    threshold,
    frameWidth: crop.width,
    frameHeight: crop.height,
  }).map((r) => placeInFrame(r, crop, frame));
  const maskPng = opts.masks ? maskPngInFrame(map.data, map.width, map.height, threshold, crop, frame) : undefined;
  return { pass: false, confidence, score, threshold, locations, maskPng };
}

/** Regions are found in the model's view (the crop); report them in frame pixels. */
function placeInFrame(r: DefectLocation, crop: CropRect, frame: { width: number; height: number }): DefectLocation {
  if (crop.x === 0 && crop.y === 0) return r;
  const centroid = { x: r.centroid.x + crop.x, y: r.centroid.y + crop.y };
  return {
    ...r,
    box: { ...r.box, x: r.box.x + crop.x, y: r.box.y + crop.y },
    centroid,
    grid: gridWord(centroid.x, centroid.y, frame.width, frame.height),
  };
}
