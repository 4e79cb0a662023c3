/**
 * Geometry and pixel helpers shared by the synthetic-defect generators (defects.ts).
 * Masks are CV_8UC1 0/255; images are CV_8UC1 or CV_8UC3.
 */
import { AppError, ErrorCodes } from '../../errors.js';
import { loadOpenCv, type Mat } from '../opencv.js';
import type { Rng } from '../../util/prng.js';

/** Defect area as a fraction of the part area (brief: realistic, roughly 0.5–5 %). */
const DEFAULT_AREA_RANGE: readonly [number, number] = [0.005, 0.05];

export type DefectKind = 'cut-paste' | 'scratch' | 'spot' | 'missing-piece';

export interface DefectResult {
  readonly image: Mat;
  readonly mask: Mat;
  readonly kind: DefectKind;
}

export interface DefectOptions {
  /** Defect area as a fraction of the part area; default [0.005, 0.05]. */
  readonly areaRange?: readonly [number, number];
  /** missing-piece: what shows through the hole (same size and layout); default a flat colour. */
  readonly background?: Mat;
  /** cut-paste: another normal image (same size and layout) to cut the patch from. */
  readonly donor?: Mat;
}

export type DefectGenerator = (image: Mat, rng: Rng, partMask?: Mat, options?: DefectOptions) => DefectResult;

/** Mean per-pixel change inside the mask a defect must reach to count as visible. */
export const MIN_CONTRAST = 20;
const ATTEMPTS = 6;

/**
 * Try a few placements; keep the first clearly visible one, else the most visible one.
 * When no attempt had a usable size the mask is empty: callers treat that as "no defect".
 */
export function bestOf(
  kind: DefectKind,
  image: Mat,
  region: Region,
  minArea: number,
  attempt: () => { image: Mat; mask: Mat; target: number },
): DefectResult {
  let best: { image: Mat; mask: Mat; score: number } | undefined;
  for (let i = 0; i < ATTEMPTS; i++) {
    const r = attempt();
    // Mostly clipped off the part (ran over an edge or into a hole): not the size asked for.
    if (r.mask.countNonZero() < Math.max(minArea, 0.3 * r.target)) continue;
    const score = maskedContrast(image, r.image, r.mask);
    if (score >= MIN_CONTRAST) return { image: r.image, mask: r.mask, kind };
    if (!best || score > best.score) best = { image: r.image, mask: r.mask, score };
  }
  if (!best) {
    const mask = blankMask(region.width, region.height);
    return { image: image.copy(), mask, kind };
  }
  return { image: best.image, mask: best.mask, kind };
}

export interface Region {
  readonly width: number;
  readonly height: number;
  /** 255 where the part is; all 255 when no part mask was given. */
  readonly inside: Uint8Array;
  readonly area: number;
}

export function regionOf(image: Mat, partMask?: Mat): Region {
  const width = image.cols;
  const height = image.rows;
  if (image.empty || image.depth !== loadOpenCv().CV_8U) {
    throw new AppError(ErrorCodes.FRAME_INVALID, 'defect generators need a non-empty 8-bit image');
  }
  if (!partMask) {
    return { width, height, inside: new Uint8Array(width * height).fill(255), area: width * height };
  }
  if (partMask.cols !== width || partMask.rows !== height || partMask.channels !== 1) {
    throw new AppError(ErrorCodes.FRAME_INVALID, 'part mask must be one channel, the size of the image');
  }
  const inside = partMask.getData();
  const area = partMask.countNonZero();
  if (area === 0) throw new AppError(ErrorCodes.FRAME_INVALID, 'part mask is empty');
  return { width, height, inside, area };
}

/** A target defect area in pixels, log-uniform in the range so small defects are common. */
export function targetArea(rng: Rng, region: Region, range = DEFAULT_AREA_RANGE): number {
  const [lo, hi] = range;
  return region.area * Math.exp(rng.range(Math.log(lo), Math.log(hi)));
}

/** A random point on the part, at least `margin` px from the image border. */
export function pointInRegion(rng: Rng, region: Region, margin = 0): [number, number] {
  const { width: w, height: h } = region;
  const m = Math.max(0, Math.min(Math.ceil(margin), Math.floor(w / 2) - 1, Math.floor(h / 2) - 1));
  for (let tries = 0; tries < 500; tries++) {
    const x = rng.int(m, w - 1 - m);
    const y = rng.int(m, h - 1 - m);
    if (region.inside[y * w + x]) return [x, y];
  }
  // A sliver of a part: fall back to scanning for any part pixel.
  const i = region.inside.findIndex((v) => v !== 0);
  return [i % w, Math.floor(i / w)];
}

/** A random point on the part's outline (part pixel with a non-part 4-neighbour). */
export function pointOnOutline(rng: Rng, region: Region): [number, number] | undefined {
  const { width: w, height: h, inside } = region;
  const edge: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (inside[i] && (!inside[i - 1] || !inside[i + 1] || !inside[i - w] || !inside[i + w])) edge.push(i);
    }
  }
  if (edge.length === 0) return undefined;
  const i = rng.pick(edge);
  return [i % w, Math.floor(i / w)];
}

export function blankMask(width: number, height: number): Mat {
  const cv = loadOpenCv();
  return new cv.Mat(height, width, cv.CV_8UC1, 0);
}

/** Keep only the part of a drawn mask that lies on the part; returns the new mask. */
export function clipToRegion(mask: Mat, region: Region): Mat {
  const cv = loadOpenCv();
  const data = mask.getData();
  for (let i = 0; i < data.length; i++) if (!region.inside[i]) data[i] = 0;
  return new cv.Mat(data, mask.rows, mask.cols, cv.CV_8UC1);
}

/** Mean over masked pixels of the largest per-channel absolute difference (grey levels). */
export function maskedContrast(a: Mat, b: Mat, mask: Mat): number {
  const da = a.getData();
  const db = b.getData();
  const dm = mask.getData();
  const ch = a.channels;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < dm.length; i++) {
    if (!dm[i]) continue;
    let d = 0;
    for (let c = 0; c < ch; c++) d = Math.max(d, Math.abs(da[i * ch + c] - db[i * ch + c]));
    sum += d;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** Per-channel mean of the image over mask pixels (or of the image border when no mask). */
export function meanColour(image: Mat, where?: Uint8Array): number[] {
  const data = image.getData();
  const ch = image.channels;
  const w = image.cols;
  const h = image.rows;
  const sum = new Array<number>(ch).fill(0);
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const take = where ? where[i] !== 0 : x < 2 || y < 2 || x >= w - 2 || y >= h - 2;
      if (!take) continue;
      for (let c = 0; c < ch; c++) sum[c] += data[i * ch + c];
      n++;
    }
  }
  return sum.map((s) => (n === 0 ? 0 : s / n));
}

export function vec(values: number[]) {
  const cv = loadOpenCv();
  const [a, b = a, c = a] = values;
  return new cv.Vec3(a, b, c);
}

/**
 * `base` blended towards `source` (an image of the same layout, or a colour) with a
 * per-pixel weight in [0, 1]; a new Mat, `base` is untouched.
 */
export function blend(base: Mat, alpha: Float32Array, source: Mat | number[]): Mat {
  const cv = loadOpenCv();
  const ch = base.channels;
  const out = base.getData();
  const src = Array.isArray(source) ? undefined : source.getData();
  const colour = Array.isArray(source)
    ? ch === 1
      ? [source.reduce((s, v) => s + v, 0) / source.length]
      : source
    : [];
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i];
    if (a <= 0) continue;
    for (let c = 0; c < ch; c++) {
      const j = i * ch + c;
      const v = src ? src[j] : colour[c];
      out[j] = Math.max(0, Math.min(255, Math.round(out[j] * (1 - a) + v * a)));
    }
  }
  return new cv.Mat(out, base.rows, base.cols, base.type);
}

/** A 0/255 mask as blend weights. */
export function maskAlpha(mask: Mat): Float32Array {
  const m = mask.getData();
  const alpha = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) alpha[i] = m[i] / 255;
  return alpha;
}
