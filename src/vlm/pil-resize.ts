/**
 * ImageBind preprocessing (SPEC §1) without Python: PIL's bicubic resize, torchvision's
 * Resize(224)/CenterCrop(224) geometry and the CLIP normalisation. Pure: imports nothing internal.
 *
 * PIL's resample is not OpenCV's INTER_CUBIC: a = −0.5 (OpenCV −0.75), and when shrinking the
 * kernel support is stretched by the scale (antialiasing), so a 900-px bottle image seen through
 * OpenCV would give the encoder different pixels than the seed saw. This is a port of
 * Pillow's `ImagingResampleHorizontal/Vertical_8bpc`: separable, horizontal pass first into
 * 8-bit, fixed-point coefficients with PRECISION_BITS = 22, rounding and clipping as Pillow.
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

interface Coeffs {
  readonly bounds: Int32Array; // [xmin, count] per output pixel
  readonly k: Float64Array; // fixed-point ints, `kmax` per output pixel
  readonly kmax: number;
}

/** Pillow `precompute_coeffs` + `normalize_coeffs_8bpc` for the box [0, inSize). */
function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const kmax = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Float64Array(outSize * kmax);
  const pre = new Float64Array(kmax);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? pre[x] / ww : pre[x];
      k[xx * kmax + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, k, kmax };
}

const clip8 = (v: number): number => (v >= ONE * 256 ? 255 : v <= 0 ? 0 : Math.floor(v / ONE));

/**
 * Resize interleaved 8-bit pixels (`channels` per pixel) as PIL `Image.resize(…, BICUBIC)`.
 * Returns a new interleaved buffer of outW×outH×channels.
 */
export function resizeBicubicPil(src: Uint8Array, w: number, h: number, channels: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let curW = w;
  if (outW !== w) {
    const c = coefficients(w, outW);
    const tmp = new Uint8Array(outW * h * channels);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const xmin = c.bounds[xx * 2];
        const n = c.bounds[xx * 2 + 1];
        for (let ch = 0; ch < channels; ch++) {
          let ss = ONE / 2;
          for (let x = 0; x < n; x++) ss += src[((y * w) + xmin + x) * channels + ch] * c.k[xx * c.kmax + x];
          tmp[(y * outW + xx) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = tmp;
    curW = outW;
  }
  if (outH === h) return cur === src ? src.slice() : cur;
  const c = coefficients(h, outH);
  const out = new Uint8Array(curW * outH * channels);
  const row = curW * channels;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = c.bounds[yy * 2];
    const n = c.bounds[yy * 2 + 1];
    for (let i = 0; i < row; i++) {
      let ss = ONE / 2;
      for (let y = 0; y < n; y++) ss += cur[(ymin + y) * row + i] * c.k[yy * c.kmax + y];
      out[yy * row + i] = clip8(ss);
    }
  }
  return out;
}

/** Python's round(): halves go to the even neighbour (torchvision's centre-crop offsets use it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision 0.14 Resize(size) on (w, h): short side → size, long side int(size·long/short). */
export function shortSideSize(w: number, h: number, size: number): { width: number; height: number } {
  if (w <= h) return { width: size, height: Math.trunc((size * h) / w) };
  return { width: Math.trunc((size * w) / h), height: size };
}

/**
 * 8-bit BGR or grey (OpenCV order) → CLIP-normalised NCHW RGB float32 [3, S, S], through the
 * SPEC §1 path: 'shorter-side-crop' (test scripts, every few-shot image) or 'squash' (web demo).
 */
export function imageBindPixels(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  opts: { size: number; resize: 'shorter-side-crop' | 'squash'; mean: readonly number[]; std: readonly number[] },
  out: Float32Array = new Float32Array(3 * opts.size * opts.size),
): Float32Array {
  const S = opts.size;
  const target = opts.resize === 'squash' ? { width: S, height: S } : shortSideSize(width, height, S);
  const resized = resizeBicubicPil(data, width, height, channels, target.width, target.height);
  const top = roundHalfEven((target.height - S) / 2);
  const left = roundHalfEven((target.width - S) / 2);
  const plane = S * S;
  for (let k = 0; k < 3; k++) {
    // Plane k is R, G, B; OpenCV's interleaved order is B, G, R.
    const srcCh = channels === 1 ? 0 : 2 - k;
    const a = 1 / 255 / opts.std[k];
    const b = -opts.mean[k] / opts.std[k];
    for (let y = 0; y < S; y++) {
      const rowBase = ((top + y) * target.width + left) * channels + srcCh;
      for (let x = 0; x < S; x++) out[k * plane + y * S + x] = resized[rowBase + x * channels] * a + b;
    }
  }
  return out;
}

/** CLIP constants (SPEC §1). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
