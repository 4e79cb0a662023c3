/**
 * The TS port of PIL's bicubic resize (src/vlm/pil-resize.ts, SPEC §1) against Pillow
 * itself: the same 8-bit images resized by Pillow (`Image.resize(…, BICUBIC)`, what ImageBind's
 * transform does) and by the port must agree byte for byte, for down- and up-scaling, odd sizes,
 * grey and colour, and the whole ImageBind path (short side 224 + torchvision centre crop +
 * CLIP normalisation). Skips without Debian's python3-pil.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_MEAN, CLIP_STD, imageBindPixels, resizeBicubicPil } from '../../src/vlm/pil-resize.js';
import { mulberry32 } from '../../src/util/prng.js';
import { PY, pythonMissing } from '../support/python.js';

const skip = pythonMissing(['PIL', 'numpy']);

// Pillow resizes RGB / L images; the input file is raw interleaved bytes (RGB order here).
const RESIZE_PY = `
import sys, numpy as np
from PIL import Image
src, w, h, c, ow, oh, dst = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
a = np.fromfile(src, dtype=np.uint8).reshape((h, w, c) if c == 3 else (h, w))
img = Image.fromarray(a, 'RGB' if c == 3 else 'L').resize((ow, oh), Image.BICUBIC)
np.asarray(img, dtype=np.uint8).tofile(dst)
`;

/** A part-like image: smooth gradients, sharp edges and noise (all of which stress a resampler). */
function image(w: number, h: number, c: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const edge = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (Math.min(w, h) / 3) ** 2 ? 90 : 0;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = Math.max(0, Math.min(255, Math.round((x * 255) / w / 2 + (y * 100) / h + edge + k * 20 + (rng() - 0.5) * 60)));
    }
  }
  return out;
}

function pillow(dir: string, data: Uint8Array, w: number, h: number, c: number, ow: number, oh: number): Uint8Array {
  const src = join(dir, 'in.raw');
  const dst = join(dir, 'out.raw');
  writeFileSync(src, data);
  const r = spawnSync(PY, ['-c', RESIZE_PY, src, String(w), String(h), String(c), String(ow), String(oh), dst], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return new Uint8Array(readFileSync(dst));
}

const diff = (a: Uint8Array, b: Uint8Array): { max: number; count: number } => {
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) count++;
    max = Math.max(max, d);
  }
  return { max, count };
};

t.test('bicubic resize equals Pillow byte for byte', { skip }, async (t) => {
  const dir = t.testdir({});
  const cases: [number, number, number, number, number][] = [
    [320, 240, 3, 298, 224], // ImageBind's short-side resize of a 4:3 frame
    [448, 448, 3, 224, 224], // MVTec bottle (2× down)
    [1024, 768, 3, 298, 224], // strong down-scaling (wide support)
    [101, 77, 1, 224, 170], // up-scaling, odd sizes, grey
    [224, 224, 3, 224, 224], // identity
  ];
  for (const [w, h, c, ow, oh] of cases) {
    const img = image(w, h, c, w + h);
    const ours = resizeBicubicPil(img, w, h, c, ow, oh);
    const theirs = pillow(dir, img, w, h, c, ow, oh);
    t.equal(ours.length, theirs.length, `${w}×${h}×${c} → ${ow}×${oh}: size`);
    const d = diff(ours, theirs);
    t.equal(d.max, 0, `${w}×${h}×${c} → ${ow}×${oh}: ${d.count} of ${ours.length} bytes differ (max ${d.max})`);
  }
});

t.test('the ImageBind pixel path equals Pillow + torchvision centre crop + CLIP normalisation', { skip }, async (t) => {
  const dir = t.testdir({});
  const [w, h] = [333, 250];
  const rgb = image(w, h, 3, 9);
  const bgr = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [rgb[i + 2], rgb[i + 1], rgb[i]];
  const px = imageBindPixels(bgr, w, h, 3, { size: 224, resize: 'shorter-side-crop', mean: CLIP_MEAN, std: CLIP_STD });
  // torchvision 0.14: long side int(224·333/250) = 298; crop offsets round((298 − 224)/2) = 37, 0.
  const resized = pillow(dir, rgb, w, h, 3, 298, 224);
  let max = 0;
  for (let k = 0; k < 3; k++) {
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        const want = (resized[(y * 298 + x + 37) * 3 + k] / 255 - CLIP_MEAN[k]) / CLIP_STD[k];
        max = Math.max(max, Math.abs(px[k * 224 * 224 + y * 224 + x] - want));
      }
    }
  }
  t.ok(max < 1e-5, `max |Δ| ${max.toExponential(2)} over 3×224×224 (BGR in, RGB planes out)`);
});
