/**
 * Cut-paste with Poisson blending, the synthetic anomaly AnomalyGPT trains on (SPEC §4,
 * after NSA): a patch cut from another place — of this image or of another normal image —
 * is rotated or flipped and pasted elsewhere with cv.seamlessClone(NORMAL_CLONE), so its
 * edges blend in and only the out-of-place structure gives it away.
 */
import { AppError, ErrorCodes } from '../../errors.js';
import { loadOpenCv, type Mat } from '../opencv.js';
import {
  bestOf,
  blankMask,
  blend,
  clipToRegion,
  maskAlpha,
  pointInRegion,
  regionOf,
  targetArea,
  vec,
  type DefectGenerator,
} from './defect-helpers.js';

const MARGIN = 2; // seamlessClone needs a zero border around the patch mask
const CANDIDATES = 8;

export const cutPaste: DefectGenerator = (image, rng, partMask, options) => {
  const cv = loadOpenCv();
  const region = regionOf(image, partMask);
  const donor = options?.donor ?? image;
  if (donor.cols !== image.cols || donor.rows !== image.rows || donor.type !== image.type) {
    throw new AppError(ErrorCodes.FRAME_INVALID, 'cut-paste donor must match the image size and layout');
  }
  // seamlessClone works on 3-channel images; grey ones make the round trip.
  const grey = image.channels === 1;
  const dst = grey ? image.cvtColor(cv.COLOR_GRAY2BGR) : image;
  const src = grey ? donor.cvtColor(cv.COLOR_GRAY2BGR) : donor;
  const { width: W, height: H } = region;
  const limit = Math.floor(Math.min(W, H) / 2) - 2 * MARGIN;

  return bestOf('cut-paste', image, region, 6, () => {
    const area = targetArea(rng, region, options?.areaRange);
    const aspect = rng.range(1, 2);
    const ellipse = rng.chance(0.5);
    // An ellipse covers π/4 of its box: grow the box so the pasted area stays on target.
    const boxArea = ellipse ? (area * 4) / Math.PI : area;
    const pw = Math.max(4, Math.min(limit, Math.round(Math.sqrt(boxArea * aspect))));
    const ph = Math.max(4, Math.min(limit, Math.round(boxArea / pw)));
    const bw = pw + 2 * MARGIN;
    const bh = ph + 2 * MARGIN;

    // Of a few candidate cuts keep the most structured one (an edge, a hole, a groove) and
    // paste it on the plainest candidate spot away from it: plain surface pasted on plain
    // surface would be invisible after Poisson blending.
    const half = Math.max(bw, bh) / 2;
    const candidates = Array.from({ length: CANDIDATES }, () => {
      const [cx, cy] = pointInRegion(rng, region, half);
      const x = clamp(cx - Math.floor(bw / 2), 0, W - bw);
      const y = clamp(cy - Math.floor(bh / 2), 0, H - bh);
      return { x, y, cx, cy, structure: structureOf(src, x, y, bw, bh), plain: structureOf(dst, x, y, bw, bh) };
    });
    const cut = candidates.reduce((a, b) => (b.structure > a.structure ? b : a));
    const [sx, sy] = [cut.cx, cut.cy];
    let patch = src.getRegion(new cv.Rect(cut.x, cut.y, bw, bh)).copy();
    // Rotate or flip so the pasted structure is out of place even from the same image.
    switch (rng.int(0, 4)) {
      case 0: patch = patch.rotate(cv.ROTATE_90_CLOCKWISE); break;
      case 1: patch = patch.rotate(cv.ROTATE_180); break;
      case 2: patch = patch.rotate(cv.ROTATE_90_COUNTERCLOCKWISE); break;
      case 3: patch = patch.flip(1); break;
      default: patch = patch.flip(0); break;
    }
    const shape = blankMask(patch.cols, patch.rows);
    const innerW = patch.cols - 2 * MARGIN;
    const innerH = patch.rows - 2 * MARGIN;
    if (ellipse) {
      const box = new cv.RotatedRect(new cv.Point2(patch.cols / 2, patch.rows / 2), new cv.Size(innerW - 1, innerH - 1), 0);
      shape.drawEllipse(box, vec([255]), -1, cv.LINE_8);
    } else {
      shape.drawRectangle(new cv.Rect(MARGIN, MARGIN, innerW, innerH), vec([255]), -1, cv.LINE_8);
    }

    const far = candidates.filter((c) => donor !== image || Math.hypot(c.cx - sx, c.cy - sy) >= Math.max(pw, ph));
    const spot = far.length > 0 ? far.reduce((a, b) => (b.plain < a.plain ? b : a)) : undefined;
    let [px, py] = spot ? [spot.cx, spot.cy] : pointInRegion(rng, region, half);
    // Where OpenCV puts it (seamless_cloning.cpp): the mask's bounding box centred on p.
    const roi = boundingBox(shape);
    px = clamp(px, Math.floor(roi.width / 2), W - roi.width + Math.floor(roi.width / 2));
    py = clamp(py, Math.floor(roi.height / 2), H - roi.height + Math.floor(roi.height / 2));
    const dx = px - Math.floor(roi.width / 2) - roi.x;
    const dy = py - Math.floor(roi.height / 2) - roi.y;

    const cloned = cv.seamlessClone(patch, dst, shape, new cv.Point2(px, py), cv.NORMAL_CLONE);
    const mask = clipToRegion(placeMask(shape, roi, dx, dy, W, H), region);
    const out = grey ? cloned.cvtColor(cv.COLOR_BGR2GRAY) : cloned;
    // Poisson blending also touches mask pixels off the part: keep only the part's share.
    return { image: blend(image, maskAlpha(mask), out), mask, target: area };
  });
};

/** Sum of per-channel standard deviations of a window: how much structure it holds. */
function structureOf(image: Mat, x: number, y: number, w: number, h: number): number {
  const cv = loadOpenCv();
  const sd = image.getRegion(new cv.Rect(x, y, w, h)).meanStdDev().stddev.getDataAsArray().flat();
  return sd.reduce((a, b) => a + b, 0);
}

interface Box { x: number; y: number; width: number; height: number }

function boundingBox(mask: Mat): Box {
  const d = mask.getData();
  const w = mask.cols;
  let x0 = w, y0 = mask.rows, x1 = -1, y1 = -1;
  for (let i = 0; i < d.length; i++) {
    if (!d[i]) continue;
    const x = i % w, y = Math.floor(i / w);
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The patch mask, shifted by (dx, dy), on a blank W×H mask. */
function placeMask(shape: Mat, roi: Box, dx: number, dy: number, W: number, H: number): Mat {
  const cv = loadOpenCv();
  const src = shape.getData();
  const out = Buffer.alloc(W * H);
  for (let y = roi.y; y < roi.y + roi.height; y++) {
    for (let x = roi.x; x < roi.x + roi.width; x++) {
      const v = src[y * shape.cols + x];
      const tx = x + dx, ty = y + dy;
      if (v && tx >= 0 && ty >= 0 && tx < W && ty < H) out[ty * W + tx] = 255;
    }
  }
  return new cv.Mat(out, H, W, cv.CV_8UC1);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
