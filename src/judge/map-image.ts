/**
 * The anomaly map as an image people and the page can use (issue 10): 8-bit grey at the map's
 * own resolution, on a scale fixed by the recipe's boundary — 128 is the boundary, 255 is twice
 * the boundary or more, 0 is a score of 0 (or below). The page colours it and scales it onto
 * the frame rectangle the map covers (VerdictMap.crop); fixing the scale to the boundary means
 * the same colour means the same thing on every frame and every recipe.
 */
import { loadOpenCv } from '../capture/opencv.js';
import { toError } from '../errors.js';

/** Grey level of a map value: round(127.5 · score / boundary), clamped to 0 … 255. */
export function mapLevels(data: ArrayLike<number>, boundary: number): Uint8Array {
  // A boundary ≤ 0 cannot set a scale; every positive score is then "above" it.
  const k = 127.5 / Math.max(boundary, Number.MIN_VALUE);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i] * k);
    out[i] = Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** The map as a single-channel 8-bit PNG (width × height of the map). */
export function mapPng(map: { readonly width: number; readonly height: number; readonly data: Float32Array }, boundary: number): Buffer {
  if (map.data.length !== map.width * map.height) throw new RangeError(`anomaly map has ${map.data.length} values, expected ${map.width}×${map.height}`);
  const cv = loadOpenCv();
  const levels = mapLevels(map.data, boundary);
  try {
    const mat = new cv.Mat(Buffer.from(levels.buffer, levels.byteOffset, levels.byteLength), map.height, map.width, cv.CV_8UC1);
    try {
      return cv.imencode('.png', mat);
    } finally {
      mat.release();
    }
  } catch (e) {
    throw toError(e);
  }
}
