import t from 'tap';
import { binaryMask, findRegions } from '../../src/judge/regions.js';

function mapWith(w: number, h: number, pixels: Array<[number, number, number]>): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x, y, v] of pixels) m[y * w + x] = v;
  return m;
}

function rect(x0: number, y0: number, w: number, h: number, v: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) out.push([x, y, v]);
  return out;
}

t.test('two blobs → two regions with boxes, centroids, words, sorted by peak', async (t) => {
  // 12×12 map, frame the same size: no scaling.
  const map = mapWith(12, 12, [...rect(0, 9, 3, 2, 0.6), ...rect(8, 1, 3, 3, 0.9)]);
  map[2 * 12 + 9] = 0.95; // peak inside the top-right blob
  const regions = findRegions(map, 12, 12, { threshold: 0.5, frameWidth: 12, frameHeight: 12 });
  t.equal(regions.length, 2);
  const [a, b] = regions;
  t.same(a.box, { x: 8, y: 1, width: 3, height: 3 });
  t.same(a.centroid, { x: 9, y: 2 });
  t.equal(a.grid, 'top right');
  t.equal(a.area, 9);
  t.equal(a.peak, Math.fround(0.95));
  t.same(b.box, { x: 0, y: 9, width: 3, height: 2 });
  t.same(b.centroid, { x: 1, y: 9.5 });
  t.equal(b.grid, 'bottom left');
  t.equal(b.area, 6);
  t.equal(b.peak, Math.fround(0.6));
});

t.test('8-connectivity joins diagonal pixels, including a staircase merged late', async (t) => {
  const diag = mapWith(5, 5, [[0, 0, 1], [1, 1, 1], [2, 2, 1], [3, 3, 1], [4, 4, 1]]);
  const r = findRegions(diag, 5, 5, { threshold: 0.5, frameWidth: 5, frameHeight: 5 });
  t.equal(r.length, 1);
  t.same(r[0].box, { x: 0, y: 0, width: 5, height: 5 });
  t.equal(r[0].area, 5);
  t.equal(r[0].grid, 'center');
  // Anti-diagonal (joined only via the NE neighbour) and a "V" whose arms meet at the bottom.
  const anti = mapWith(4, 4, [[3, 0, 1], [2, 1, 1], [1, 2, 1], [0, 3, 1]]);
  t.equal(findRegions(anti, 4, 4, { threshold: 0.5, frameWidth: 4, frameHeight: 4 }).length, 1);
  const vee = mapWith(5, 3, [[0, 0, 1], [4, 0, 1], [1, 1, 1], [3, 1, 1], [2, 2, 1]]);
  const v = findRegions(vee, 5, 3, { threshold: 0.5, frameWidth: 5, frameHeight: 3 });
  t.equal(v.length, 1);
  t.equal(v[0].area, 5);
  // Pixels two apart are separate regions.
  const apart = mapWith(5, 1, [[0, 0, 1], [2, 0, 1], [4, 0, 1]]);
  t.equal(findRegions(apart, 5, 1, { threshold: 0.5, frameWidth: 5, frameHeight: 1 }).length, 3);
});

t.test('threshold is strict and NaN is never defective', async (t) => {
  const map = new Float32Array([0.5, 0.5000001, Number.NaN, 0]);
  t.same([...binaryMask(map, 0.5)], [0, 255, 0, 0]);
  const r = findRegions(map, 4, 1, { threshold: 0.5, frameWidth: 4, frameHeight: 1 });
  t.equal(r.length, 1);
  t.same(r[0].box, { x: 1, y: 0, width: 1, height: 1 });
});

t.test('min-area filter drops speckle, maxRegions caps by peak', async (t) => {
  // 10×10 map: a 1-pixel speck (1 % of the map) and a 3×3 blob (9 %).
  const map = mapWith(10, 10, [[0, 0, 2], ...rect(5, 5, 3, 3, 1)]);
  const all = findRegions(map, 10, 10, { threshold: 0.5, frameWidth: 10, frameHeight: 10 });
  t.equal(all.length, 2);
  t.equal(all[0].peak, 2, 'the speck has the higher peak');
  const filtered = findRegions(map, 10, 10, { threshold: 0.5, frameWidth: 10, frameHeight: 10, minAreaFraction: 0.05 });
  t.equal(filtered.length, 1);
  t.equal(filtered[0].area, 9);
  const capped = findRegions(map, 10, 10, { threshold: 0.5, frameWidth: 10, frameHeight: 10, maxRegions: 1 });
  t.equal(capped.length, 1);
  t.equal(capped[0].peak, 2);
  // Many isolated pixels: default cap is 16.
  const dots: Array<[number, number, number]> = [];
  for (let y = 0; y < 10; y += 2) for (let x = 0; x < 10; x += 2) dots.push([x, y, 1 + x + 10 * y]);
  const many = findRegions(mapWith(10, 10, dots), 10, 10, { threshold: 0.5, frameWidth: 10, frameHeight: 10 });
  t.equal(many.length, 16);
  t.ok(many.every((r, i) => i === 0 || many[i - 1].peak >= r.peak), 'sorted by peak descending');
});

t.test('scales boxes, centroids and area to frame pixels', async (t) => {
  // 4×4 map onto a 400×200 frame: each map pixel covers 100×50 frame pixels.
  const map = mapWith(4, 4, rect(2, 3, 2, 1, 1));
  const [r] = findRegions(map, 4, 4, { threshold: 0.5, frameWidth: 400, frameHeight: 200 });
  t.same(r.box, { x: 200, y: 150, width: 200, height: 50 });
  // Mean map pixel (2.5, 3) → frame pixel centres: (2.5+0.5)·100−0.5, (3+0.5)·50−0.5.
  t.same(r.centroid, { x: 299.5, y: 174.5 });
  t.equal(r.area, 2 * 100 * 50);
  t.equal(r.grid, 'bottom right');
});

t.test('a map-sized blob needs no recursion (224×224 all defective)', async (t) => {
  const map = new Float32Array(224 * 224).fill(1);
  const start = performance.now();
  const r = findRegions(map, 224, 224, { threshold: 0.5, frameWidth: 224, frameHeight: 224 });
  const ms = performance.now() - start;
  t.equal(r.length, 1);
  t.equal(r[0].area, 224 * 224);
  t.equal(r[0].grid, 'center');
  t.ok(ms < 200, `took ${ms.toFixed(1)} ms`);
});

t.test('rejects inconsistent sizes', async (t) => {
  t.throws(() => findRegions(new Float32Array(5), 2, 2, { threshold: 0, frameWidth: 2, frameHeight: 2 }), RangeError);
  t.throws(() => findRegions(new Float32Array(4), 2, 2, { threshold: 0, frameWidth: 0, frameHeight: 2 }), RangeError);
});
