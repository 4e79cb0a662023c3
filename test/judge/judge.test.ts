import t from 'tap';
import { loadOpenCv, type Mat } from '../../src/capture/opencv.js';
import { cropFor } from '../../src/fewshot/preprocess.js';
import type { Boundary } from '../../src/judge/boundary.js';
import { judge } from '../../src/judge/judge.js';
import '../fewshot/fixtures.js';
import type { AnomalyMap } from '../../src/judge/anomaly-map.js';

const cv = loadOpenCv();
const BOUNDARY: Boundary = { threshold: 0.5, scale: 0.1, rule: 'test', normalLevel: 0.3, defectLevel: 0.9 };
const OPTS = { boundary: BOUNDARY, score: { kind: 'max' } as const, masks: true };

/** A size×size map at `low` with hot square blobs (rows r0..r0+n−1, cols c0..c0+n−1). */
function mapWith(size: number, low: number, blobs: { r0: number; c0: number; n: number; value: number }[]): AnomalyMap {
  const data = new Float32Array(size * size).fill(low);
  for (const b of blobs) for (let r = b.r0; r < b.r0 + b.n; r++) for (let c = b.c0; c < b.c0 + b.n; c++) data[r * size + c] = b.value;
  return { data, width: size, height: size };
}

function decodeMask(png: Uint8Array | undefined): Mat {
  if (!png) throw new Error('no mask');
  return cv.imdecode(Buffer.from(png), cv.IMREAD_UNCHANGED);
}

/** Bounding box and count of the set pixels of a 0/255 mask. */
function setPixels(m: Mat): { count: number; x0: number; x1: number; y0: number; y1: number; values: Set<number> } {
  const d = m.getData();
  const out = { count: 0, x0: Infinity, x1: -1, y0: Infinity, y1: -1, values: new Set<number>() };
  for (let y = 0; y < m.rows; y++) for (let x = 0; x < m.cols; x++) {
    const v = d[y * m.cols + x];
    out.values.add(v);
    if (!v) continue;
    out.count++;
    out.x0 = Math.min(out.x0, x); out.x1 = Math.max(out.x1, x);
    out.y0 = Math.min(out.y0, y); out.y1 = Math.max(out.y1, y);
  }
  return out;
}

t.test('one hot blob → fail with one location in frame pixels and a frame-size mask', async (t) => {
  const frame = { width: 320, height: 240 };
  const crop = cropFor('squash', 320, 240, 224, 224);
  const map = mapWith(28, 0.1, [{ r0: 4, c0: 20, n: 3, value: 1.2 }]);
  const j = judge(map, crop, frame, OPTS);
  const sx = 320 / 28;
  const sy = 240 / 28;
  t.equal(j.pass, false);
  t.equal(j.score, Math.fround(1.2));
  t.equal(j.threshold, 0.5);
  t.ok(j.confidence > 0.99, `confidence ${j.confidence}`);
  t.equal(j.locations.length, 1);
  const loc = j.locations[0];
  t.ok(Math.abs(loc.box.x - 20 * sx) <= 1 && Math.abs(loc.box.x + loc.box.width - 23 * sx) <= 1, `box x ${loc.box.x}+${loc.box.width} spans map cols 20–22`);
  t.ok(Math.abs(loc.box.y - 4 * sy) <= 1 && Math.abs(loc.box.y + loc.box.height - 7 * sy) <= 1, `box y ${loc.box.y}+${loc.box.height} spans map rows 4–6`);
  t.ok(Math.abs(loc.centroid.x - (21.5 * sx - 0.5)) < 1e-6 && Math.abs(loc.centroid.y - (5.5 * sy - 0.5)) < 1e-6, `centroid ${JSON.stringify(loc.centroid)}`);
  t.equal(loc.grid, 'top right');
  t.ok(Math.abs(loc.area - 9 * sx * sy) <= 1, `area ${loc.area}`);
  t.equal(loc.peak, Math.fround(1.2));

  const mask = decodeMask(j.maskPng);
  t.same([mask.cols, mask.rows, mask.channels], [320, 240, 1], 'mask at frame size, one channel');
  const px = setPixels(mask);
  t.same([...px.values].sort((a, b) => a - b), [0, 255], 'binary 0/255');
  t.ok(px.count > 0.5 * loc.area && px.count < 1.5 * loc.area, `mask area ${px.count} ≈ region area ${loc.area}`);
  t.ok(px.x0 >= loc.box.x - 2 && px.x1 <= loc.box.x + loc.box.width + 2 && px.y0 >= loc.box.y - 2 && px.y1 <= loc.box.y + loc.box.height + 2, 'mask pixels inside the box');
  t.equal(mask.getData()[Math.round(loc.centroid.y) * 320 + Math.round(loc.centroid.x)], 255, 'mask set at the centroid');
});

t.test('a flat low map → pass, no locations, no mask', async (t) => {
  const j = judge(mapWith(28, 0.1, []), { x: 0, y: 0, width: 320, height: 240 }, { width: 320, height: 240 }, OPTS);
  t.equal(j.pass, true);
  t.same(j.locations, []);
  t.equal(j.maskPng, undefined);
  t.equal(j.score, Math.fround(0.1));
  t.ok(j.confidence > 0.99 && j.confidence <= 1);
  const edge = judge(mapWith(28, 0.5, []), { x: 0, y: 0, width: 320, height: 240 }, { width: 320, height: 240 }, OPTS);
  t.equal(edge.pass, true, 'score exactly at the threshold passes');
  t.equal(edge.confidence, 0.5);
});

t.test('fails always carry a location; masks:false leaves the mask out; regions by peak', async (t) => {
  const map = mapWith(28, 0.1, [{ r0: 20, c0: 2, n: 2, value: 0.7 }, { r0: 2, c0: 2, n: 4, value: 0.9 }]);
  const j = judge(map, { x: 0, y: 0, width: 224, height: 224 }, { width: 224, height: 224 }, { ...OPTS, masks: false });
  t.equal(j.pass, false);
  t.equal(j.maskPng, undefined);
  t.same(j.locations.map((l) => l.grid), ['top left', 'bottom left'], 'highest peak first');
  t.same(j.locations.map((l) => l.peak), [Math.fround(0.9), Math.fround(0.7)]);
  const top = judge(map, { x: 0, y: 0, width: 224, height: 224 }, { width: 224, height: 224 }, { ...OPTS, score: { kind: 'top-mean', fraction: 0.001 } });
  t.equal(top.pass, false, 'other image-score rules decide too');
  t.ok(top.locations.length > 0);
});

t.test('shorter-side crop: boxes, centroids and grid words in frame pixels; mask zero outside the crop', async (t) => {
  // Landscape 640×480, square input: crop x = 80, 480×480.
  const frame = { width: 640, height: 480 };
  const crop = cropFor('shorter-side-crop', 640, 480, 224, 224);
  t.same(crop, { x: 80, y: 0, width: 480, height: 480 });
  const s = 480 / 28;
  const j = judge(mapWith(28, 0.1, [{ r0: 12, c0: 18, n: 3, value: 1 }]), crop, frame, OPTS);
  t.equal(j.locations.length, 1);
  const loc = j.locations[0];
  const cx = 19.5 * s - 0.5 + 80;
  const cy = 13.5 * s - 0.5;
  t.ok(Math.abs(loc.centroid.x - cx) < 1e-6 && Math.abs(loc.centroid.y - cy) < 1e-6, `centroid ${JSON.stringify(loc.centroid)} ≈ (${cx.toFixed(2)}, ${cy.toFixed(2)})`);
  t.ok(Math.abs(loc.box.x - (18 * s + 80)) <= 1 && Math.abs(loc.box.x + loc.box.width - (21 * s + 80)) <= 1, `box x ${loc.box.x}+${loc.box.width}`);
  t.ok(Math.abs(loc.box.y - 12 * s) <= 1, `box y ${loc.box.y}`);
  // In the crop the blob is in the right third (333.8 of 480); in the frame it is central (413.8 of 640).
  t.equal(loc.grid, 'center', 'grid word from the frame position, not the crop position');
  const mask = decodeMask(j.maskPng);
  t.same([mask.cols, mask.rows], [640, 480], 'mask at frame size');
  const px = setPixels(mask);
  t.ok(px.count > 0, 'mask has the blob');
  t.ok(px.x0 >= 80 + 18 * s - 2 && px.x1 <= 80 + 21 * s + 2, `mask x ${px.x0}–${px.x1} at the blob's frame position`);
  t.equal(mask.getData()[Math.round(cy) * 640 + Math.round(cx)], 255, 'set at the centroid');

  // Portrait 480×640: crop y = 80; a blob at the crop's top row band lands in the frame's top band.
  const tall = cropFor('shorter-side-crop', 480, 640, 224, 224);
  t.same(tall, { x: 0, y: 80, width: 480, height: 480 });
  const k = judge(mapWith(28, 0.1, [{ r0: 0, c0: 0, n: 2, value: 1 }]), tall, { width: 480, height: 640 }, OPTS);
  const l2 = k.locations[0];
  t.equal(l2.box.y, 80, 'box shifted down by the crop offset');
  t.equal(l2.box.x, 0);
  t.ok(Math.abs(l2.centroid.y - (1 * s - 0.5 + 80)) < 1e-6);
  t.equal(l2.grid, 'top left');
  const m2 = setPixels(decodeMask(k.maskPng));
  t.ok(m2.y0 >= 80, `no mask above the crop (first row ${m2.y0})`);
});
