/**
 * A simulated camera: good parts with normal variation and, at `defectRate`, synthetic
 * defects with a pixel ground truth (Frame.truthMask / truthLabel). It lets the whole
 * daemon — pipeline, judge, sinks, web page — run and be measured with no camera attached.
 *
 * Frame n is a pure function of (seed, n): each frame draws from its own PRNG seeded with
 * mixSeed(seed, n), so a run is reproducible and independent of reopen/reconnect timing.
 */
import { AppError, ErrorCodes, isAppError, toError } from '../../errors.js';
import type { Frame } from '../frame.js';
import type { FrameSource, SourceContext, SourceCounters } from '../frame-source.js';
import { listImageFiles } from '../image-files.js';
import { matToFrame, readImageFile } from '../image-io.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../image-limits.js';
import { loadOpenCv, type Mat } from '../opencv.js';
import { injectDefect, type DefectKind } from './defects.js';
import { estimatePartMask } from './part-mask.js';
import { ProceduralPart } from './procedural-part.js';
import { createRng, mixSeed, type Rng } from '../../util/prng.js';

export interface SimSourceOptions {
  readonly kind: 'sim';
  /** Folder of normal images to render from; omitted: a procedural part. */
  readonly references?: string;
  readonly width: number;
  readonly height: number;
  /** Probability in [0, 1] that a frame carries a defect. */
  readonly defectRate: number;
  readonly seed: number;
  /** Reference files above the pixel limit are skipped before decoding. Default DEFAULT_IMAGE_LIMITS. */
  readonly limits?: ImageLimits;
}

export interface SimRender {
  /** The frame as delivered (BGR, width×height). */
  readonly image: Mat;
  /** The same frame before any defect was injected. */
  readonly clean: Mat;
  readonly label: 'good' | 'defect';
  /** 0/255 CV_8UC1, only for defects. */
  readonly mask?: Mat;
  readonly defect?: DefectKind;
}

/** Decoding every reference of a big folder would cost memory for little extra variety. */
const MAX_REFERENCES = 64;

export class SimSource implements FrameSource {
  readonly live = false;
  readonly description: string;
  readonly counters: SourceCounters = { frames: 0, unreadable: 0 };
  private part: ProceduralPart | undefined;
  private references: Mat[] = [];
  private opened = false;
  private readonly now: () => number;

  constructor(
    private readonly options: SimSourceOptions,
    private readonly ctx: SourceContext,
  ) {
    const o = options;
    this.description = `sim:${o.references ?? 'procedural'} ${o.width}×${o.height} seed=${o.seed} defectRate=${o.defectRate}`;
    this.now = ctx.now ?? Date.now;
  }

  async open(): Promise<void> {
    const o = this.options;
    if (!(o.width >= 32 && o.height >= 32 && o.defectRate >= 0 && o.defectRate <= 1 && Number.isFinite(o.seed))) {
      throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: width/height ≥ 32 and defectRate in [0, 1] required`);
    }
    if (o.references === undefined) {
      this.part = new ProceduralPart(o.seed, o.width, o.height);
    } else {
      this.references = await this.loadReferences(o.references);
    }
    this.opened = true;
    this.ctx.logger.info({ source: this.description, references: this.references.length }, 'simulated camera opened');
  }

  private async loadReferences(dir: string): Promise<Mat[]> {
    let files: string[];
    try {
      files = await listImageFiles(dir);
    } catch (e) {
      throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: ${toError(e).message}`, { cause: e });
    }
    // Evenly spread over the folder, in natural order.
    const count = Math.min(files.length, MAX_REFERENCES);
    const chosen = Array.from({ length: count }, (_, k) => files[Math.floor((k * files.length) / count)]);
    const mats: Mat[] = [];
    for (const file of chosen) {
      try {
        mats.push(coverResize(await readImageFile(file, this.options.limits ?? DEFAULT_IMAGE_LIMITS), this.options.width, this.options.height));
      } catch (e) {
        this.counters.unreadable++;
        this.ctx.logger.warn(
          { source: this.description, file, code: isAppError(e) ? e.code : undefined, err: toError(e).message },
          'skipping unreadable reference image',
        );
      }
    }
    if (mats.length === 0) throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: no readable reference image`);
    return mats;
  }

  /** Frame n (1-based) exactly as read() delivers it, plus its clean version. */
  renderFrame(n: number): SimRender {
    if (!this.opened) throw new AppError(ErrorCodes.CAMERA_READ, `${this.description} is not open`);
    const rng = createRng(mixSeed(this.options.seed, n));
    const isDefect = rng.chance(this.options.defectRate);
    let clean: Mat;
    let partMask: Mat | undefined;
    let background: Mat | undefined;
    let donor: Mat | undefined;
    if (this.part) {
      ({ image: clean, partMask, background } = this.part.render(rng));
    } else {
      const index = rng.int(0, this.references.length - 1);
      clean = jitter(this.references[index], rng);
      partMask = estimatePartMask(clean);
      if (this.references.length > 1 && rng.chance(0.5)) {
        const other = (index + rng.int(1, this.references.length - 1)) % this.references.length;
        donor = jitter(this.references[other], rng);
      }
    }
    if (!isDefect) return { image: clean, clean, label: 'good' };
    const d = injectDefect(clean, rng, partMask, { background, donor });
    // No placement of a usable size was found (a degenerate part): deliver a good frame.
    if (d.mask.countNonZero() === 0) return { image: clean, clean, label: 'good' };
    return { image: d.image, clean, label: 'defect', mask: d.mask, defect: d.kind };
  }

  async read(): Promise<Frame | null> {
    const n = this.counters.frames + 1;
    const r = this.renderFrame(n);
    const frame = matToFrame(r.image, {
      cameraId: this.ctx.cameraId,
      seq: n,
      capturedAt: this.now(),
      origin: `sim:${n}`,
      truthLabel: r.label,
      ...(r.mask ? { truthMask: r.mask.getData() } : {}),
    });
    this.counters.frames = n;
    return frame;
  }

  async close(): Promise<void> {
    this.opened = false;
    this.references = [];
    this.part = undefined;
  }
}

/** Scale to cover width×height and crop the centre: keeps the part's proportions. */
function coverResize(mat: Mat, width: number, height: number): Mat {
  const cv = loadOpenCv();
  const bgr = mat.channels === 1 ? mat.cvtColor(cv.COLOR_GRAY2BGR) : mat;
  const scale = Math.max(width / bgr.cols, height / bgr.rows);
  const w = Math.max(width, Math.round(bgr.cols * scale));
  const h = Math.max(height, Math.round(bgr.rows * scale));
  const resized = bgr.resize(h, w, 0, 0, cv.INTER_AREA);
  const x = Math.floor((w - width) / 2);
  const y = Math.floor((h - height) / 2);
  return resized.getRegion(new cv.Rect(x, y, width, height)).copy();
}

/** Normal variation of a real good part: a few pixels of shift, a little exposure. */
function jitter(mat: Mat, rng: Rng): Mat {
  const cv = loadOpenCv();
  const dx = rng.range(-3, 3);
  const dy = rng.range(-3, 3);
  const shift = new cv.Mat([[1, 0, dx], [0, 1, dy]], cv.CV_64F);
  const moved = mat.warpAffine(shift, new cv.Size(mat.cols, mat.rows), cv.INTER_LINEAR, cv.BORDER_REPLICATE);
  return moved.convertTo(cv.CV_8U, 1, rng.range(-6, 6));
}
