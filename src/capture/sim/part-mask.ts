/**
 * A rough part mask for a reference image, so synthetic defects land on the object and not
 * on the backdrop (MVTec object categories: a part on a plain background). Textures and
 * images that fill the frame get no mask: there the whole image is "the part".
 */
import { loadOpenCv, type Mat } from '../opencv.js';

export interface PartMaskOptions {
  /** Max per-channel distance from the backdrop colour still counted as backdrop. */
  readonly threshold?: number;
  /** Border standard deviation above which the backdrop is not plain (a texture). */
  readonly maxBorderStd?: number;
}

/**
 * CV_8UC1 0/255 mask of pixels that differ from the (plain) colour of the image border,
 * cleaned with a morphological close/open; undefined when the border is not plain or the
 * result covers under 2 % or over 95 % of the image.
 */
export function estimatePartMask(image: Mat, options: PartMaskOptions = {}): Mat | undefined {
  const cv = loadOpenCv();
  const threshold = options.threshold ?? 30;
  const maxBorderStd = options.maxBorderStd ?? 20;
  const w = image.cols;
  const h = image.rows;
  const ch = image.channels;
  const data = image.getData();
  const isBorder = (x: number, y: number) => x < 3 || y < 3 || x >= w - 3 || y >= h - 3;

  const sum = new Array<number>(ch).fill(0);
  const sq = new Array<number>(ch).fill(0);
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!isBorder(x, y)) continue;
      for (let c = 0; c < ch; c++) {
        const v = data[(y * w + x) * ch + c];
        sum[c] += v;
        sq[c] += v * v;
      }
      n++;
    }
  }
  const mean = sum.map((s) => s / n);
  const std = Math.max(...sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] * mean[c]))));
  if (std > maxBorderStd) return undefined;

  const raw = Buffer.alloc(w * h);
  for (let i = 0; i < w * h; i++) {
    let d = 0;
    for (let c = 0; c < ch; c++) d = Math.max(d, Math.abs(data[i * ch + c] - mean[c]));
    if (d > threshold) raw[i] = 255;
  }
  const k = Math.max(3, 2 * Math.round(Math.min(w, h) / 100) + 1);
  const kernel = cv.getStructuringElement(cv.MORPH_ELLIPSE, new cv.Size(k, k));
  const mask = new cv.Mat(raw, h, w, cv.CV_8UC1)
    .morphologyEx(kernel, cv.MORPH_CLOSE)
    .morphologyEx(kernel, cv.MORPH_OPEN);
  const frac = mask.countNonZero() / (w * h);
  return frac < 0.02 || frac > 0.95 ? undefined : mask;
}
