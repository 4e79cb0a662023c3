/**
 * Pure preprocessing maths (imports only a type): where the model looks in the frame,
 * and the one pass that turns resized 8-bit interleaved pixels into a normalised NCHW
 * float tensor. The resize itself is native (OpenCV) in encoder.ts.
 */
import type { CropRect } from '../judge/anomaly-map.js';

export interface NormalisationSpec {
  readonly channelOrder: 'RGB' | 'BGR';
  readonly scale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/**
 * squash: the whole frame (aspect not kept; AnomalyGPT's training path and web demo, SPEC §1).
 * shorter-side-crop: the largest centred rectangle with the input's aspect ratio, which
 * after resizing equals "shorter side to size, then centre crop" (SPEC §1 test path).
 */
export function cropFor(
  mode: 'squash' | 'shorter-side-crop',
  frameWidth: number,
  frameHeight: number,
  inputWidth: number,
  inputHeight: number,
): CropRect {
  if (mode === 'squash') return { x: 0, y: 0, width: frameWidth, height: frameHeight };
  const target = inputWidth / inputHeight;
  let width = frameWidth;
  let height = Math.round(frameWidth / target);
  if (height > frameHeight) {
    height = frameHeight;
    width = Math.round(frameHeight * target);
  }
  return { x: Math.round((frameWidth - width) / 2), y: Math.round((frameHeight - height) / 2), width, height };
}

/**
 * HWC uint8 (BGR or grey, as OpenCV delivers) → NCHW float32, value = (p·scale − mean)/std.
 * Writes into `out` (length 3·w·h) so the hot path allocates nothing.
 */
export function toNchw(
  src: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  spec: NormalisationSpec,
  out: Float32Array,
): Float32Array {
  const plane = width * height;
  if (src.length < plane * channels) throw new RangeError(`toNchw: ${src.length} bytes for ${width}x${height}x${channels}`);
  if (out.length !== plane * 3) throw new RangeError(`toNchw: output length ${out.length}, expected ${plane * 3}`);
  // Output plane k holds channel spec.channelOrder[k]; OpenCV data is B,G,R.
  const srcIndexOfPlane = spec.channelOrder === 'RGB' ? [2, 1, 0] : [0, 1, 2];
  for (let k = 0; k < 3; k++) {
    const a = spec.scale / spec.std[k];
    const b = -spec.mean[k] / spec.std[k];
    const base = k * plane;
    if (channels === 1) {
      for (let i = 0; i < plane; i++) out[base + i] = src[i] * a + b;
    } else {
      const c = srcIndexOfPlane[k];
      for (let i = 0, j = c; i < plane; i++, j += 3) out[base + i] = src[j] * a + b;
    }
  }
  return out;
}
