/**
 * How large and how small an image or frame may be (pure; imports nothing but errors.ts and
 * the bounds of the images.maxPixels setting from config/images.ts).
 *
 * Too large (E_IMAGE_TOO_LARGE), checked on the file header before decoding and on a live
 * frame before inspection:
 * - `images.maxPixels` (config, default 40 MP): above most machine-vision area-scan sensors
 *   (raise it for 45 MP and larger ones), while the model sees at most 448×448 anyway. Decoding
 *   cost grows with pixels (an 8000×8000 PNG took 2.5 s here, issue 9) and a 40 MP BGR
 *   frame is already 120 MB.
 * - HARD_MAX_PIXELS, the ceiling of that setting: every Mat leaves OpenCV through
 *   Mat.getData(), which copies into a Node Buffer with Nan::CopyBuffer, and nan.h asserts
 *   `size <= imp::kMaxLength` (0x3fffffff bytes) — a failed assertion aborts the process
 *   (exit 134). With at most 4 bytes per 8-bit pixel (BGRA) that is 268 435 455 pixels.
 * - MAX_SIDE: OpenCV's own per-side limit (CV_IO_MAX_IMAGE_WIDTH/HEIGHT, loadsave.cpp).
 *
 * Too small (E_IMAGE_TOO_SMALL), checked where the model input size is known (encoder):
 * the part of the frame the model looks at would be enlarged more than MAX_UPSCALE = 8
 * times along a side. 8 is the stride of the finest feature tap of the default recipe
 * (block_5_add): beyond it a cell of the finest feature map has less than one frame pixel
 * behind it — the anomaly map would have more cells than the frame has pixels, and the
 * score would describe interpolation, not the part (a 1×1 image was judged FAIL, issue 9).
 * For a 224×224 input the frame must be at least 28×28; 448×192 needs 56×24.
 */
import { BINDING_MAX_BYTES, DEFAULT_MAX_PIXELS, HARD_MAX_PIXELS } from '../config/images.js';
import { AppError, ErrorCodes } from '../errors.js';

// The bounds of the images.maxPixels setting are the config's (config may import only root files).
export { BINDING_MAX_BYTES, DEFAULT_MAX_PIXELS, HARD_MAX_PIXELS };
/** OpenCV imgcodecs: CV_IO_MAX_IMAGE_WIDTH / CV_IO_MAX_IMAGE_HEIGHT default. */
export const MAX_SIDE = 1 << 20;
/** The most a side of the model's view of a frame may be enlarged to the model input. */
export const MAX_UPSCALE = 8;

export interface ImageLimits {
  /** Largest width × height accepted (at most HARD_MAX_PIXELS). */
  readonly maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({ maxPixels: DEFAULT_MAX_PIXELS });

const mp = (pixels: number) => `${(pixels / 1e6).toFixed(pixels < 1e6 ? 2 : 1)} MP`;

/**
 * Throws E_IMAGE_TOO_LARGE when width × height exceeds the configured limit (capped at
 * HARD_MAX_PIXELS) or a side exceeds MAX_SIDE. `what` names the thing in the message.
 */
export function checkPixelLimit(width: number, height: number, limits: ImageLimits, origin: string, what = 'image'): void {
  const max = Math.min(limits.maxPixels, HARD_MAX_PIXELS);
  const pixels = width * height;
  if (pixels > max || width > MAX_SIDE || height > MAX_SIDE) {
    const rule = width > MAX_SIDE || height > MAX_SIDE
      ? `a side above ${MAX_SIDE}`
      : max === limits.maxPixels ? `above images.maxPixels ${max} (${mp(max)})` : `above the hard limit of ${max} pixels`;
    throw new AppError(ErrorCodes.IMAGE_TOO_LARGE, `${origin}: ${what} of ${width}×${height} (${mp(pixels)}) refused: ${rule}`, {
      details: { origin, width, height, maxPixels: max },
    });
  }
}

/**
 * Throws E_IMAGE_TOO_SMALL when the region the model looks at (`view`, frame pixels) would
 * be enlarged more than MAX_UPSCALE times along a side to reach the model input `input`.
 */
export function checkModelScale(
  view: { readonly width: number; readonly height: number },
  input: { readonly width: number; readonly height: number },
  origin: string,
): void {
  const scale = Math.max(input.width / view.width, input.height / view.height);
  if (!(scale <= MAX_UPSCALE)) {
    const minW = Math.ceil(input.width / MAX_UPSCALE);
    const minH = Math.ceil(input.height / MAX_UPSCALE);
    throw new AppError(
      ErrorCodes.IMAGE_TOO_SMALL,
      `${origin}: ${view.width}×${view.height} is far smaller than the model input ${input.width}×${input.height} (at least ${minW}×${minH}, at most ${MAX_UPSCALE}× enlargement)`,
      { details: { origin, width: view.width, height: view.height, input: { width: input.width, height: input.height } } },
    );
  }
}
