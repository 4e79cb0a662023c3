/**
 * Defect regions from an anomaly map: connected components of `map > threshold`
 * (8-connectivity, like cv2.findContours on the binarised mask that SPEC §7 takes centres
 * from), scaled to frame pixels. Pure: typed arrays only, no OpenCV, no recursion (a
 * two-pass labelling with an iterative union-find, so a map-sized blob cannot blow the stack).
 */
import type { DefectLocation } from './verdict.js';
import { gridWord } from './grid-words.js';

export interface RegionOptions {
  /** A pixel is defective when its score is strictly above this (NaN never is). */
  readonly threshold: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Regions smaller than this fraction of the frame are dropped (speckle). Default 0. */
  readonly minAreaFraction?: number;
  /** At most this many regions, highest peak first. Default 16. */
  readonly maxRegions?: number;
}

const DEFAULT_MAX_REGIONS = 16;

/** 0/255 mask of `map > threshold`, same layout as the map. */
export function binaryMask(map: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) if (map[i] > threshold) out[i] = 255;
  return out;
}

function find(parent: Int32Array, a: number): number {
  let root = a;
  while (parent[root] !== root) root = parent[root];
  // Path compression keeps later finds O(α(n)).
  while (parent[a] !== root) {
    const next = parent[a];
    parent[a] = root;
    a = next;
  }
  return root;
}

function union(parent: Int32Array, a: number, b: number): number {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return ra;
  // Keep the smaller label as root: deterministic output regardless of scan details.
  if (ra < rb) { parent[rb] = ra; return ra; }
  parent[ra] = rb;
  return rb;
}

/** Merge neighbour label `l` (0 = background) into the current pixel's `label`. */
function merge(parent: Int32Array, label: number, l: number): number {
  if (l === 0) return label;
  return label === 0 ? find(parent, l) : union(parent, label, l);
}

/**
 * Connected regions of `map > threshold` as DefectLocations in frame pixels, highest peak
 * first, at most `maxRegions`. Area is the pixel count scaled by the map→frame ratio.
 */
export function findRegions(
  map: ArrayLike<number>,
  mapWidth: number,
  mapHeight: number,
  options: RegionOptions,
): DefectLocation[] {
  const { threshold, frameWidth, frameHeight } = options;
  const minAreaFraction = options.minAreaFraction ?? 0;
  const maxRegions = options.maxRegions ?? DEFAULT_MAX_REGIONS;
  const n = mapWidth * mapHeight;
  if (!Number.isInteger(mapWidth) || !Number.isInteger(mapHeight) || mapWidth <= 0 || mapHeight <= 0) {
    throw new RangeError(`findRegions: bad map size ${mapWidth}×${mapHeight}`);
  }
  if (map.length !== n) throw new RangeError(`findRegions: map has ${map.length} values, expected ${n}`);
  if (!(frameWidth > 0) || !(frameHeight > 0)) {
    throw new RangeError(`findRegions: bad frame size ${frameWidth}×${frameHeight}`);
  }

  // Pass 1: provisional labels (1-based; 0 = background), merging with the four neighbours
  // already visited (W, NW, N, NE) — that is what makes diagonal pixels one region.
  const labels = new Int32Array(n);
  const parent = new Int32Array(n + 1);
  let next = 1;
  for (let y = 0; y < mapHeight; y++) {
    const row = y * mapWidth;
    for (let x = 0; x < mapWidth; x++) {
      const i = row + x;
      if (!(map[i] > threshold)) continue;
      let label = 0;
      if (x > 0) label = merge(parent, label, labels[i - 1]);
      if (y > 0) {
        const up = i - mapWidth;
        if (x > 0) label = merge(parent, label, labels[up - 1]);
        label = merge(parent, label, labels[up]);
        if (x + 1 < mapWidth) label = merge(parent, label, labels[up + 1]);
      }
      if (label === 0) {
        label = next++;
        parent[label] = label;
      }
      labels[i] = label;
    }
  }
  if (next === 1) return [];

  // Pass 2: per-root statistics in map pixels.
  const count = new Float64Array(next);
  const sumX = new Float64Array(next);
  const sumY = new Float64Array(next);
  const minX = new Int32Array(next).fill(mapWidth);
  const minY = new Int32Array(next).fill(mapHeight);
  const maxX = new Int32Array(next).fill(-1);
  const maxY = new Int32Array(next).fill(-1);
  const peak = new Float64Array(next).fill(-Infinity);
  for (let y = 0; y < mapHeight; y++) {
    for (let x = 0; x < mapWidth; x++) {
      const i = y * mapWidth + x;
      if (labels[i] === 0) continue;
      const r = find(parent, labels[i]);
      count[r]++;
      sumX[r] += x;
      sumY[r] += y;
      if (x < minX[r]) minX[r] = x;
      if (x > maxX[r]) maxX[r] = x;
      if (y < minY[r]) minY[r] = y;
      if (y > maxY[r]) maxY[r] = y;
      if (map[i] > peak[r]) peak[r] = map[i];
    }
  }

  // Scale to frame pixels: map pixel j covers frame span [j·s, (j+1)·s). Centroids are in
  // pixel-index coordinates (centre of pixel k is k), as cv2.moments reports them.
  const sx = frameWidth / mapWidth;
  const sy = frameHeight / mapHeight;
  const minCount = minAreaFraction * n;
  const out: DefectLocation[] = [];
  for (let r = 1; r < next; r++) {
    if (count[r] === 0 || count[r] < minCount) continue;
    const x0 = Math.floor(minX[r] * sx);
    const y0 = Math.floor(minY[r] * sy);
    const x1 = Math.min(frameWidth, Math.ceil((maxX[r] + 1) * sx));
    const y1 = Math.min(frameHeight, Math.ceil((maxY[r] + 1) * sy));
    const cx = (sumX[r] / count[r] + 0.5) * sx - 0.5;
    const cy = (sumY[r] / count[r] + 0.5) * sy - 0.5;
    out.push({
      box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      centroid: { x: cx, y: cy },
      grid: gridWord(cx, cy, frameWidth, frameHeight),
      area: Math.round(count[r] * sx * sy),
      peak: peak[r],
    });
  }
  out.sort((a, b) => b.peak - a.peak);
  return out.length > maxRegions ? out.slice(0, maxRegions) : out;
}
