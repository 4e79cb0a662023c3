/**
 * The image encoder step: frame → (native resize) → normalised NCHW → onnxruntime → one
 * feature map per tap. The frame's pixels are wrapped, not copied, before the resize.
 */
import * as ort from 'onnxruntime-node';
import type { Frame } from '../capture/frame.js';
import { frameToMat } from '../capture/image-io.js';
import { checkModelScale } from '../capture/image-limits.js';
import type { Cv, Mat } from '../capture/opencv.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { EncoderInputSpec, TapSpec } from './bundle-manifest.js';
import { cropFor, toNchw } from './preprocess.js';
import type { CropRect } from '../judge/anomaly-map.js';

export interface InputSize {
  readonly width: number;
  readonly height: number;
}

export interface TapFeatures {
  readonly tap: TapSpec;
  /** NCHW float32, N = 1. */
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** The onnxruntime tensor itself, to feed the scorer without another copy. */
  readonly tensor: ort.Tensor;
}

export interface Encoded {
  readonly taps: readonly TapFeatures[];
  readonly crop: CropRect;
  readonly preprocessMs: number;
  readonly encoderMs: number;
}

export class Encoder {
  constructor(
    private readonly cv: Cv,
    private readonly session: ort.InferenceSession,
    private readonly input: EncoderInputSpec,
    private readonly taps: readonly TapSpec[],
  ) {}

  /** Checks that an input size is valid for this bundle (required before calibrating). */
  validateSize(size: InputSize): void {
    const m = this.input.sizeMultiple;
    const fixed = !this.input.dynamicSize && (size.width !== this.input.width || size.height !== this.input.height);
    if (fixed || size.width % m !== 0 || size.height % m !== 0) {
      throw new AppError(
        ErrorCodes.RECIPE_INVALID,
        `input size ${size.width}x${size.height} is not valid for this bundle (multiple of ${m}${this.input.dynamicSize ? '' : `, fixed ${this.input.width}x${this.input.height}`})`,
      );
    }
  }

  /** Frame or BGR Mat → tap features. */
  async encode(image: Frame | Mat, size: InputSize): Promise<Encoded> {
    const t0 = performance.now();
    const { mat, crop } = this.toInput(image, size);
    const pixels = pixelsOf(mat);
    const tensorData = toNchw(pixels, size.width, size.height, channelsOf(mat), this.input, new Float32Array(3 * size.width * size.height));
    const t1 = performance.now();
    const feeds = { [this.input.name]: new ort.Tensor('float32', tensorData, [1, 3, size.height, size.width]) };
    const out = await this.session.run(feeds, this.taps.map((t) => t.output));
    const t2 = performance.now();
    const taps = this.taps.map((tap) => {
      const tensor = out[tap.output];
      const [, channels, height, width] = tensor.dims;
      if (channels !== tap.channels) {
        throw new AppError(ErrorCodes.MODEL_SHAPE, `tap ${tap.name}: ${channels} channels, manifest says ${tap.channels}`);
      }
      return { tap, data: tensor.data as Float32Array, channels, height, width, tensor };
    });
    return { taps, crop, preprocessMs: t1 - t0, encoderMs: t2 - t1 };
  }

  /** The model's view of the image: crop (SPEC §1 resize mode) and resize to the input size. */
  toInput(image: Frame | Mat, size: InputSize): { mat: Mat; crop: CropRect } {
    // frameToMat sizes the Mat from `channels`, so a 4-channel frame would be read as grey.
    if (!isMat(image) && image.channels !== 1 && image.channels !== 3) {
      throw new AppError(ErrorCodes.FRAME_INVALID, `${image.origin}: frame has ${image.channels as number} channels; expected 1 or 3`);
    }
    const mat = isMat(image) ? image : frameToMat(image);
    channelsOf(mat);
    const crop = cropFor(this.input.resize, mat.cols, mat.rows, size.width, size.height);
    // A frame far below the input size (a 1×1 image) would be judged on interpolation.
    checkModelScale(crop, size, isMat(image) ? 'image' : image.origin);
    if (crop.width === size.width && crop.height === size.height && crop.x === 0 && crop.y === 0) return { mat, crop };
    return { mat: this.resize(mat, crop, size), crop };
  }

  private resize(mat: Mat, crop: CropRect, size: InputSize): Mat {
    try {
      const full = crop.x === 0 && crop.y === 0 && crop.width === mat.cols && crop.height === mat.rows;
      const region = full ? mat : mat.getRegion(new this.cv.Rect(crop.x, crop.y, crop.width, crop.height));
      // INTER_AREA when shrinking (anti-aliased, what camera frames need); cubic when enlarging.
      const shrinking = crop.width >= size.width && crop.height >= size.height;
      const interp = shrinking ? this.cv.INTER_AREA : this.cv.INTER_CUBIC;
      return region.resize(size.height, size.width, 0, 0, interp);
    } catch (e) {
      throw new AppError(ErrorCodes.FRAME_INVALID, `cannot resize frame: ${toError(e).message}`, { cause: e });
    }
  }
}

/** getData refuses region-of-interest views (a getRegion of exactly the input size): compact those. */
function pixelsOf(mat: Mat): Buffer {
  try {
    return mat.getData();
  } catch {
    return mat.copy().getData();
  }
}

function isMat(x: Frame | Mat): x is Mat {
  return typeof (x as Mat).getData === 'function';
}

function channelsOf(mat: Mat): 1 | 3 {
  if (mat.channels !== 1 && mat.channels !== 3) {
    throw new AppError(ErrorCodes.FRAME_INVALID, `frame has ${mat.channels} channels; expected 1 or 3`);
  }
  return mat.channels;
}
