/**
 * A procedural machined part for the simulated camera: a turned flange (outer disc, centre
 * bore, a ring of bolt holes, lathe grooves, a bright chamfer) lying on a textured conveyor.
 * The geometry and the background are fixed by the seed, like one product type on one line;
 * each render varies a little (position, rotation, exposure, sensor noise) the way real
 * frames of good parts do, so a detector sees normal variation, not pixel-identical images.
 */
import { loadOpenCv, type Mat } from '../opencv.js';
import { createRng, type Rng } from '../../util/prng.js';

export interface PartScene {
  /** CV_8UC3 BGR render. */
  readonly image: Mat;
  /** CV_8UC1, 255 on the part's material (not on the bore or bolt holes). */
  readonly partMask: Mat;
  /** CV_8UC3, the same scene without the part: what a missing piece reveals. */
  readonly background: Mat;
}

interface Geometry {
  radius: number;
  bore: number;
  boltCount: number;
  boltPitch: number;
  boltRadius: number;
  grooves: Array<[number, number]>;
  metal: number;
  light: [number, number];
}

export class ProceduralPart {
  private readonly geo: Geometry;
  /** Background tone per pixel, fixed per seed. */
  private readonly bgTone: Float32Array;
  private readonly bgColour: [number, number, number];

  constructor(
    seed: number,
    readonly width = 320,
    readonly height = 240,
  ) {
    if (width < 32 || height < 32) throw new RangeError('procedural part needs at least 32×32 pixels');
    const rng = createRng(seed);
    const size = Math.min(width, height);
    const radius = size * rng.range(0.34, 0.38);
    const bore = radius * rng.range(0.3, 0.38);
    const boltCount = rng.int(4, 8);
    const grooves: Array<[number, number]> = [];
    for (let i = rng.int(1, 3); i > 0; i--) grooves.push([rng.range(bore * 1.15, radius * 0.92), rng.range(0.8, 1.6)]);
    this.geo = {
      radius,
      bore,
      boltCount,
      boltPitch: (radius + bore) / 2 + rng.range(-0.05, 0.05) * radius,
      boltRadius: radius * rng.range(0.07, 0.1),
      grooves,
      metal: rng.range(150, 185),
      light: [rng.range(-1, 1), rng.range(-1, -0.3)],
    };
    this.bgColour = [rng.range(0.9, 1.15), rng.range(1.0, 1.15), rng.range(0.85, 1.0)];
    this.bgTone = makeBackgroundTone(rng, width, height, rng.range(55, 85));
  }

  /** Render one frame of a good part with mild random variation drawn from `rng`. */
  render(rng: Rng): PartScene {
    const cv = loadOpenCv();
    const { width: w, height: h } = this;
    const g = this.geo;
    const cx = w / 2 + rng.range(-3, 3);
    const cy = h / 2 + rng.range(-3, 3);
    const angle = rng.range(-0.07, 0.07);
    const exposure = rng.range(-6, 6);
    const noise = 1.5;
    const bolts: Array<[number, number]> = [];
    for (let i = 0; i < g.boltCount; i++) {
      const a = angle + (2 * Math.PI * i) / g.boltCount;
      bolts.push([cx + g.boltPitch * Math.cos(a), cy + g.boltPitch * Math.sin(a)]);
    }
    const img = Buffer.allocUnsafe(w * h * 3);
    const bg = Buffer.allocUnsafe(w * h * 3);
    const mask = Buffer.alloc(w * h);
    const [lx, ly] = g.light;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const dx = x - cx;
        const dy = y - cy;
        const r = Math.sqrt(dx * dx + dy * dy);
        // Soft shadow of the part, offset down-right, darkens the conveyor.
        const sr = Math.sqrt((dx - 4) * (dx - 4) + (dy - 5) * (dy - 5));
        const shadow = 1 - 0.35 * clamp01((g.radius + 6 - sr) / 6);
        const back = this.bgTone[i] * shadow + exposure;
        // Coverage gives anti-aliased edges: outer rim, bore, bolt holes.
        let cover = clamp01(g.radius - r + 0.5) * clamp01(r - g.bore + 0.5);
        if (cover > 0 && Math.abs(r - g.boltPitch) < g.boltRadius + 1) {
          for (const [bx, by] of bolts) {
            cover *= clamp01(Math.sqrt((x - bx) * (x - bx) + (y - by) * (y - by)) - g.boltRadius + 0.5);
          }
        }
        let metal = g.metal + exposure + 14 * ((dx * lx + dy * ly) / g.radius);
        metal += 3 * Math.cos(r * 2.1); // lathe marks
        if (g.radius - r < 3 || r - g.bore < 2.5) metal += 28; // chamfers catch the light
        for (const [gr, gw] of g.grooves) if (Math.abs(r - gr) < gw) metal -= 45;
        const n = (rng.next() - rng.next()) * noise * 2.45;
        for (let c = 0; c < 3; c++) {
          const b = back * this.bgColour[c];
          const m = metal * (c === 0 ? 1.04 : c === 1 ? 1.01 : 0.97);
          bg[i * 3 + c] = clampByte(b + n);
          img[i * 3 + c] = clampByte(b * (1 - cover) + m * cover + n);
        }
        if (cover >= 0.5) mask[i] = 255;
      }
    }
    return {
      image: new cv.Mat(img, h, w, cv.CV_8UC3),
      partMask: new cv.Mat(mask, h, w, cv.CV_8UC1),
      background: new cv.Mat(bg, h, w, cv.CV_8UC3),
    };
  }
}

/** Conveyor-belt texture: low-frequency blotches plus fine horizontal streaks. */
function makeBackgroundTone(rng: Rng, w: number, h: number, base: number): Float32Array {
  const cv = loadOpenCv();
  const lw = Math.max(2, Math.round(w / 16));
  const lh = Math.max(2, Math.round(h / 16));
  const coarse = Buffer.allocUnsafe(lw * lh);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.round(rng.range(0, 255));
  const blotches = new cv.Mat(coarse, lh, lw, cv.CV_8UC1).resize(h, w, 0, 0, cv.INTER_CUBIC).getData();
  const fine = Buffer.allocUnsafe(w * h);
  for (let i = 0; i < fine.length; i++) fine[i] = Math.round(rng.range(0, 255));
  const streaks = new cv.Mat(fine, h, w, cv.CV_8UC1).gaussianBlur(new cv.Size(15, 1), 0).getData();
  const tone = new Float32Array(w * h);
  for (let i = 0; i < tone.length; i++) tone[i] = base + 0.1 * (blotches[i] - 128) + 0.25 * (streaks[i] - 128);
  return tone;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
