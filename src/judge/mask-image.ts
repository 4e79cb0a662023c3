/**
 * Images for people and sinks: the binary defect mask PNG carried in the Verdict, and the
 * overlay a technician looks at (frame + heat map + region boxes + PASS/FAIL banner).
 * OpenCV throws strings: everything here wraps them with `toError`.
 */
import type { Frame } from '../capture/frame.js';
import { loadOpenCv, type Cv, type Mat } from '../capture/opencv.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { DefectLocation } from './verdict.js';

/** The anomaly map resized to frame size as a CV_32F Mat (bilinear, INTER_LINEAR). */
export function mapAtFrameSize(cv: Cv, map: Float32Array, mapW: number, mapH: number, frameW: number, frameH: number): Mat {
  if (map.length !== mapW * mapH) {
    throw new RangeError(`anomaly map has ${map.length} values, expected ${mapW}×${mapH}`);
  }
  // The Mat constructor copies the bytes, so the caller's map is never aliased.
  const m = new cv.Mat(Buffer.from(map.buffer, map.byteOffset, map.byteLength), mapH, mapW, cv.CV_32F);
  if (mapW === frameW && mapH === frameH) return m;
  return m.resize(frameH, frameW, 0, 0, cv.INTER_LINEAR);
}

/**
 * Binary 0/255 single-channel PNG at frame size. The map is resized *before* thresholding so
 * the mask edges follow the interpolated map instead of showing map-pixel staircases.
 * A pixel is set where the interpolated score is strictly above `threshold`.
 */
export function maskPng(
  map: Float32Array, mapW: number, mapH: number, threshold: number, frameW: number, frameH: number,
): Buffer {
  const cv = loadOpenCv();
  try {
    const big = mapAtFrameSize(cv, map, mapW, mapH, frameW, frameH);
    const mask = big.threshold(threshold, 255, cv.THRESH_BINARY).convertTo(cv.CV_8U);
    return cv.imencode('.png', mask);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw toError(e);
  }
}

export interface OverlayOptions {
  /** The judge's decision boundary; the heat colour scale is fixed relative to it. */
  readonly threshold: number;
  readonly locations: readonly DefectLocation[];
  readonly pass: boolean;
  readonly score: number;
  /** Heat opacity. Default 0.45. */
  readonly alpha?: number;
  /** Heat is drawn where the map is above this fraction of the threshold. Default 0.5. */
  readonly heatFrom?: number;
}

function frameToBgrMat(cv: Cv, frame: Frame | Mat): Mat {
  if (frame instanceof cv.Mat) {
    // Drawing mutates: work on a copy so the caller's Mat stays untouched.
    return frame.channels === 1 ? frame.cvtColor(cv.COLOR_GRAY2BGR) : frame.copy();
  }
  const f = frame as Frame;
  if (f.data.length !== f.width * f.height * f.channels) {
    throw new AppError(ErrorCodes.FRAME_INVALID, `frame data has ${f.data.length} bytes, expected ${f.width}×${f.height}×${f.channels}`);
  }
  const buf = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
  const m = new cv.Mat(buf, f.height, f.width, f.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
  return f.channels === 1 ? m.cvtColor(cv.COLOR_GRAY2BGR) : m;
}

/**
 * The frame with a semi-transparent JET heat map where the map exceeds `heatFrom`·threshold,
 * region boxes labelled with their grid word, and a PASS/FAIL banner with the score.
 * The colour scale is fixed (0 → blue, threshold → green/yellow, 2·threshold → red) so
 * overlays of different frames compare by eye; per-image min-max scaling (what the original
 * web demo does, SPEC §10.9) makes every good part look "hot".
 * `options` is satisfied by a Verdict. Returns a PNG at frame size.
 */
export function overlayPng(
  frame: Frame | Mat, map: Float32Array, mapW: number, mapH: number, options: OverlayOptions,
): Buffer {
  const cv = loadOpenCv();
  try {
    const img = frameToBgrMat(cv, frame);
    const W = img.cols;
    const H = img.rows;
    const big = mapAtFrameSize(cv, map, mapW, mapH, W, H);
    const thr = options.threshold;
    const alpha = options.alpha ?? 0.45;

    const scaleTop = Number.isFinite(thr) && thr > 0 ? 2 * thr : Math.max(big.minMaxLoc().maxVal, 1e-12);
    const heat8 = big.convertTo(cv.CV_8U, 255 / scaleTop, 0); // saturating cast clamps to 0..255
    const colour = cv.applyColorMap(heat8, cv.COLORMAP_JET);
    const heatMask = big.threshold((options.heatFrom ?? 0.5) * thr, 255, cv.THRESH_BINARY).convertTo(cv.CV_8U);
    const blended = img.addWeighted(1 - alpha, colour, alpha, 0);
    blended.copyTo(img, heatMask);

    const unit = Math.max(1, Math.round(Math.min(W, H) / 240));
    const font = cv.FONT_HERSHEY_SIMPLEX;
    const boxColour = new cv.Vec3(0, 0, 255);
    for (const loc of options.locations) {
      const { x, y, width, height } = loc.box;
      img.drawRectangle(new cv.Point2(x, y), new cv.Point2(x + width - 1, y + height - 1), boxColour, unit, cv.LINE_AA);
      const ty = y - 3 * unit > 12 * unit ? y - 3 * unit : Math.min(H - 2, y + height + 12 * unit);
      img.putText(loc.grid, new cv.Point2(x, ty), font, 0.4 * unit, boxColour, unit, cv.LINE_AA);
    }

    const bannerH = Math.max(14, Math.round(H * 0.08));
    const bannerColour = options.pass ? new cv.Vec3(40, 150, 40) : new cv.Vec3(30, 30, 200);
    img.drawRectangle(new cv.Point2(0, 0), new cv.Point2(W - 1, bannerH - 1), bannerColour, cv.FILLED);
    const text = `${options.pass ? 'PASS' : 'FAIL'}  score ${fmt(options.score)} / ${fmt(thr)}`;
    // Fit the text into the banner height and the frame width.
    const probe = cv.getTextSize(text, font, 1, 1).size;
    const fontScale = Math.max(0.25, Math.min((bannerH * 0.6) / probe.height, (W * 0.95) / probe.width));
    const thickness = Math.max(1, Math.round(fontScale * 1.5));
    img.putText(text, new cv.Point2(Math.round(W * 0.02), Math.round(bannerH * 0.78)), font, fontScale,
      new cv.Vec3(255, 255, 255), thickness, cv.LINE_AA);
    return cv.imencode('.png', img);
  } catch (e) {
    if (e instanceof RangeError || e instanceof AppError) throw e;
    throw toError(e);
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}

/**
 * The mask PNG at frame size when the map covers only a crop of the frame (shorter-side-crop
 * bundles): the part outside the model's view is 0.
 */
export function maskPngInFrame(
  map: Float32Array, mapW: number, mapH: number, threshold: number,
  crop: { x: number; y: number; width: number; height: number },
  frame: { width: number; height: number },
): Buffer {
  if (crop.x === 0 && crop.y === 0 && crop.width === frame.width && crop.height === frame.height) {
    return maskPng(map, mapW, mapH, threshold, frame.width, frame.height);
  }
  const cv = loadOpenCv();
  try {
    const inner = mapAtFrameSize(cv, map, mapW, mapH, crop.width, crop.height)
      .threshold(threshold, 255, cv.THRESH_BINARY).convertTo(cv.CV_8U);
    const full = new cv.Mat(frame.height, frame.width, cv.CV_8UC1, 0);
    inner.copyTo(full.getRegion(new cv.Rect(crop.x, crop.y, crop.width, crop.height)));
    return cv.imencode('.png', full);
  } catch (e) {
    throw toError(e);
  }
}
