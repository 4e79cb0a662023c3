/**
 * A category's test images encoded once and reused by every draw of `eval` (the references
 * change per draw, the test images and the encoder do not): the encoder's tap features, its
 * time, and the ground-truth mask at the model's input size. Re-encoded only if a draw
 * resolves another input size.
 */
import type { Cv } from '../capture/opencv.js';
import { readImageFile } from '../capture/image-io.js';
import type { Engine } from '../fewshot/engine.js';
import type { InputSize, TapFeatures } from '../fewshot/encoder.js';
import { cropFor } from '../fewshot/preprocess.js';
import type { Category } from './dataset.js';
import type { CropRect } from '../judge/anomaly-map.js';

export interface CachedTest {
  readonly taps: readonly TapFeatures[];
  readonly crop: CropRect;
  /** Preprocess + encoder time of the one encoding (ms). */
  readonly encodeMs: number;
  /** Mask at the input size (0–255), all zero for a test image without one; absent without masks. */
  readonly truth?: Uint8Array;
}

export class TestCache {
  private key = '';
  private entries: (CachedTest | undefined)[] = [];

  constructor(
    private readonly cv: Cv,
    private readonly engine: Engine,
    private readonly cat: Category,
  ) {}

  async get(i: number, input: InputSize): Promise<CachedTest> {
    const key = `${input.width}x${input.height}`;
    if (key !== this.key) {
      this.key = key;
      this.entries = [];
    }
    const hit = this.entries[i];
    if (hit) return hit;
    const item = this.cat.test[i];
    const image = await readImageFile(item.path);
    const t0 = performance.now();
    const enc = await this.engine.encoder.encode(image, input);
    const encodeMs = performance.now() - t0;
    const entry: CachedTest = { taps: enc.taps, crop: enc.crop, encodeMs, ...(this.cat.hasMasks ? { truth: await this.truth(item.maskPath, input) } : {}) };
    this.entries[i] = entry;
    return entry;
  }

  /** The mask cropped like the image and resized bilinearly to the input size (SPEC §6). */
  private async truth(maskPath: string | undefined, input: InputSize): Promise<Uint8Array> {
    if (!maskPath) return new Uint8Array(input.width * input.height);
    const { cv } = this;
    const raw = await readImageFile(maskPath);
    const mask = raw.channels === 1 ? raw : raw.cvtColor(cv.COLOR_BGR2GRAY);
    const c = cropFor(this.engine.inputSpec.resize, mask.cols, mask.rows, input.width, input.height);
    return mask.getRegion(new cv.Rect(c.x, c.y, c.width, c.height)).copy().resize(input.height, input.width, 0, 0, cv.INTER_LINEAR).getData();
  }
}
