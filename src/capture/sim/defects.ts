/**
 * Synthetic defects with pixel-exact ground truth, for the simulated camera and for
 * calibration (synthetic anomalies made from a recipe's reference images).
 *
 * Every generator has the shape `(image, rng, partMask?, options?) → { image, mask, kind }`:
 * the input Mat is never modified; `mask` is CV_8UC1 0/255 at image size, lies on the part
 * (partMask, or estimatePartMask for reference images) and every changed pixel is inside it.
 * Defects are sized to roughly 0.5–5 % of the part area and placements are retried until
 * they differ clearly (≥ MIN_CONTRAST grey levels on average inside the mask; cut-paste,
 * whose Poisson blend keeps flat areas unchanged, measured 16–37 here), so a working
 * detector can and must flag them. An empty mask means no placement of usable size existed.
 */
import { loadOpenCv, type Mat } from '../opencv.js';
import { cutPaste } from './cut-paste.js';
import {
  bestOf,
  blend,
  blankMask,
  clipToRegion,
  maskAlpha,
  meanColour,
  pointInRegion,
  pointOnOutline,
  regionOf,
  targetArea,
  vec,
  type DefectGenerator,
  type DefectKind,
  type DefectOptions,
  type DefectResult,
} from './defect-helpers.js';
import type { Rng } from '../../util/prng.js';

export type { DefectGenerator, DefectKind, DefectOptions, DefectResult } from './defect-helpers.js';
export { MIN_CONTRAST } from './defect-helpers.js';

/** A thin dark or bright polyline: a tool mark or handling scratch. */
export const scratch: DefectGenerator = (image, rng, partMask, options) => {
  const cv = loadOpenCv();
  const region = regionOf(image, partMask);
  const size = Math.min(region.width, region.height);
  const mean = meanColour(image, region.inside);
  const grey = mean.reduce((s, v) => s + v, 0) / mean.length;
  return bestOf('scratch', image, region, 4, () => {
    const area = targetArea(rng, region, options?.areaRange);
    const thickness = Math.max(1, Math.round((rng.range(1, 2.6) * size) / 240));
    // Long thin lines cannot reach the larger area targets: ask only for what fits.
    const length = Math.min(area / thickness, size * 0.6);
    const segments = rng.int(3, 6);
    let [x, y] = pointInRegion(rng, region, 4);
    let heading = rng.range(0, 2 * Math.PI);
    const pts = [new cv.Point2(x, y)];
    for (let s = 0; s < segments; s++) {
      heading += rng.range(-0.35, 0.35);
      x = Math.min(region.width - 1, Math.max(0, x + (length / segments) * Math.cos(heading)));
      y = Math.min(region.height - 1, Math.max(0, y + (length / segments) * Math.sin(heading)));
      pts.push(new cv.Point2(Math.round(x), Math.round(y)));
    }
    const delta = rng.range(70, 110);
    const dark = grey - delta >= 0 && (grey + delta > 255 || rng.chance(0.7));
    const colour = mean.map((m) => Math.max(0, Math.min(255, dark ? m - delta : m + delta)));
    const drawn = blankMask(region.width, region.height);
    drawn.drawPolylines([pts], false, vec([255]), thickness, cv.LINE_8);
    const mask = clipToRegion(drawn, region);
    return { image: blend(image, maskAlpha(mask), colour), mask, target: length * thickness };
  });
};

/** A soft-edged blob: oil, rust or residue stain. */
export const spot: DefectGenerator = (image, rng, partMask, options) => {
  const cv = loadOpenCv();
  const region = regionOf(image, partMask);
  const mean = meanColour(image, region.inside);
  const stains = [
    [25, 30, 35],
    [35, 75, 135],
    [225, 230, 232],
  ].filter((c) => Math.max(...c.map((v, i) => Math.abs(v - (mean[i] ?? mean[0])))) > 70);
  const palette = stains.length > 0 ? stains : [mean.map((m) => (m > 128 ? 0 : 255))];
  return bestOf('spot', image, region, 6, () => {
    const area = targetArea(rng, region, options?.areaRange);
    const aspect = rng.range(1, 2.2);
    const a = Math.sqrt((area * aspect) / Math.PI);
    const b = area / (Math.PI * a);
    const [cx, cy] = pointInRegion(rng, region, Math.ceil(b));
    const drawn = blankMask(region.width, region.height);
    const box = new cv.RotatedRect(new cv.Point2(cx, cy), new cv.Size(2 * a, 2 * b), rng.range(0, 180));
    drawn.drawEllipse(box, vec([255]), -1, cv.LINE_AA);
    const k = 2 * Math.max(1, Math.round(b / 3)) + 1;
    const soft = clipToRegion(drawn.gaussianBlur(new cv.Size(k, k), 0), region).getData();
    const opacity = rng.range(0.8, 0.95);
    const alpha = new Float32Array(soft.length);
    const maskData = Buffer.alloc(soft.length);
    for (let i = 0; i < soft.length; i++) {
      alpha[i] = (soft[i] / 255) * opacity;
      if (alpha[i] > 0.35) maskData[i] = 255;
      else alpha[i] = 0; // the faint fringe is left out of both the image and the truth
    }
    const mask = new cv.Mat(maskData, region.height, region.width, cv.CV_8UC1);
    return { image: blend(image, alpha, rng.pick(palette)), mask, target: area };
  });
};

/** A chipped edge: an irregular chunk of the part gone, showing the background. */
const missingPiece: DefectGenerator = (image, rng, partMask, options) => {
  const cv = loadOpenCv();
  const region = regionOf(image, partMask);
  const outside = partMask ? Uint8Array.from(region.inside, (v) => (v ? 0 : 255)) : undefined;
  const hasOutside = outside?.some((v) => v !== 0) ?? false;
  const fill: Mat | number[] = options?.background ?? meanColour(image, hasOutside ? outside : undefined);
  return bestOf('missing-piece', image, region, 6, () => {
    const area = targetArea(rng, region, options?.areaRange);
    // On an outline about half the chunk falls off the part, so aim twice as big.
    const onEdge = partMask ? pointOnOutline(rng, region) : undefined;
    const [cx, cy] = onEdge ?? pointInRegion(rng, region, 2);
    const rho = Math.sqrt(((onEdge ? 2 : 1) * area) / Math.PI);
    const corners = rng.int(6, 9);
    const pts = [];
    for (let i = 0; i < corners; i++) {
      const angle = ((i + rng.range(-0.3, 0.3)) * 2 * Math.PI) / corners;
      const r = rho * rng.range(0.65, 1.15);
      pts.push(new cv.Point2(Math.round(cx + r * Math.cos(angle)), Math.round(cy + r * Math.sin(angle))));
    }
    const drawn = blankMask(region.width, region.height);
    drawn.drawFillPoly([pts], vec([255]), cv.LINE_8);
    const mask = clipToRegion(drawn, region);
    return { image: blend(image, maskAlpha(mask), fill), mask, target: area };
  });
};

export { cutPaste };
export { estimatePartMask } from './part-mask.js';

export const DEFECT_GENERATORS: Readonly<Record<DefectKind, DefectGenerator>> = {
  'cut-paste': cutPaste,
  scratch,
  spot,
  'missing-piece': missingPiece,
};

export const DEFECT_KINDS = Object.keys(DEFECT_GENERATORS) as DefectKind[];

/** A defect of the given kind, or of a kind drawn from `rng`. */
export function injectDefect(
  image: Mat,
  rng: Rng,
  partMask?: Mat,
  options?: DefectOptions & { kind?: DefectKind },
): DefectResult {
  const kind = options?.kind ?? rng.pick(DEFECT_KINDS);
  return DEFECT_GENERATORS[kind](image, rng, partMask, options);
}
