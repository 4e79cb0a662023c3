// The overlay a technician reads a verdict from, drawn client-side on a canvas: the frame,
// the anomaly map as heat over the rectangle it covers (map.png: 8-bit, 128 = the recipe's
// boundary, 255 = twice it), the defect mask's outline, and the region boxes with their
// 3×3 grid words. Layers are built once per inspection; toggles only recompose them.

import { inspectionUrl } from './api.js';

function loadImage(url, signal) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = 'async';
    const abort = () => {
      img.src = '';
      reject(new DOMException('aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', abort, { once: true });
    img.onload = () => {
      signal?.removeEventListener('abort', abort);
      resolve(img);
    };
    img.onerror = () => {
      signal?.removeEventListener('abort', abort);
      reject(new Error(`cannot load ${url}`));
    };
    img.src = url;
  });
}

/** The frame, map and mask of an inspection (map and mask only when it has them). */
export async function loadLayers(summary, signal) {
  const files = summary.files ?? {};
  const [frame, map, mask] = await Promise.all([
    loadImage(inspectionUrl(summary.id, 'frame.jpg'), signal),
    files.map ? loadImage(inspectionUrl(summary.id, 'map.png'), signal).catch(() => null) : null,
    files.mask ? loadImage(inspectionUrl(summary.id, 'mask.png'), signal).catch(() => null) : null,
  ]);
  return {
    summary,
    frame,
    heat: map ? heatLayer(map) : null,
    outline: mask ? maskLayer(mask, frame.naturalWidth) : null,
  };
}

function pixelsOf(img) {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(img, 0, 0);
  return { canvas: c, g, data: g.getImageData(0, 0, c.width, c.height) };
}

/** Map levels → colours: nothing below half the boundary, amber up to it, orange→red above. */
function heatLayer(mapImg) {
  const { canvas, g, data } = pixelsOf(mapImg);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    const v = px[i];
    if (v < 64) {
      px[i + 3] = 0;
    } else if (v < 128) {
      px[i] = 255;
      px[i + 1] = 205;
      px[i + 2] = 0;
      px[i + 3] = Math.round(255 * 0.38 * ((v - 64) / 64));
    } else {
      const t = (v - 128) / 127;
      px[i] = 255;
      px[i + 1] = Math.round(150 * (1 - t));
      px[i + 2] = Math.round(40 * t);
      px[i + 3] = Math.round(255 * (0.5 + 0.2 * t));
    }
  }
  g.putImageData(data, 0, 0);
  return canvas;
}

/** The mask's outline (thickened for large frames) over a faint fill. */
function maskLayer(maskImg, frameWidth) {
  const { canvas, g, data } = pixelsOf(maskImg);
  const w = canvas.width;
  const hgt = canvas.height;
  const src = data.data;
  const on = new Uint8Array(w * hgt);
  for (let i = 0, p = 0; p < on.length; i += 4, p++) on[p] = src[i] > 127 ? 1 : 0;
  const edge = new Uint8Array(w * hgt);
  for (let y = 0; y < hgt; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!on[p]) continue;
      if (x === 0 || y === 0 || x === w - 1 || y === hgt - 1 || !on[p - 1] || !on[p + 1] || !on[p - w] || !on[p + w]) edge[p] = 1;
    }
  }
  const r = Math.max(1, Math.round(Math.max(frameWidth, w) / 420));
  const out = g.createImageData(w, hgt);
  const o = out.data;
  for (let p = 0; p < on.length; p++) {
    if (on[p]) {
      o[p * 4] = 255;
      o[p * 4 + 1] = 40;
      o[p * 4 + 2] = 40;
      o[p * 4 + 3] = 46;
    }
  }
  for (let y = 0; y < hgt; y++) {
    for (let x = 0; x < w; x++) {
      if (!edge[y * w + x]) continue;
      for (let dy = -r + 1; dy < r; dy++) {
        for (let dx = -r + 1; dx < r; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= hgt) continue;
          const q = (yy * w + xx) * 4;
          o[q] = 255;
          o[q + 1] = 70;
          o[q + 2] = 70;
          o[q + 3] = 255;
        }
      }
    }
  }
  g.putImageData(out, 0, 0);
  return canvas;
}

/** Composes the layers on `canvas` (sized to the frame). show = { heat, mask, boxes }. */
export function drawLayers(canvas, layers, show = { heat: true, mask: true, boxes: true }) {
  const { frame, summary } = layers;
  const w = frame.naturalWidth;
  const hgt = frame.naturalHeight;
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  const g = canvas.getContext('2d');
  g.imageSmoothingEnabled = true;
  g.drawImage(frame, 0, 0);
  if (show.heat && layers.heat) {
    const c = summary.crop ?? { x: 0, y: 0, width: w, height: hgt };
    g.imageSmoothingQuality = 'high';
    g.drawImage(layers.heat, c.x, c.y, c.width, c.height);
  }
  if (show.mask && layers.outline) g.drawImage(layers.outline, 0, 0, w, hgt);
  if (show.boxes) drawBoxes(g, summary.locations ?? [], w);
}

const MAX_LABELS = 4;

function drawBoxes(g, locations, frameWidth) {
  const lw = Math.max(2, Math.round(frameWidth / 320));
  const font = Math.max(12, Math.round(frameWidth / 26));
  g.lineWidth = lw;
  g.font = `700 ${font}px system-ui, sans-serif`;
  g.textBaseline = 'top';
  // Every box is drawn; only the strongest few are labelled (the list beside says the rest).
  locations.forEach((l, i) => {
    const b = l.box;
    g.strokeStyle = '#ffffff';
    g.setLineDash([]);
    g.strokeRect(b.x + lw / 2, b.y + lw / 2, Math.max(1, b.width - lw), Math.max(1, b.height - lw));
    if (i >= MAX_LABELS) return;
    const label = `${i + 1} ${l.grid}`;
    const tw = g.measureText(label).width + font * 0.6;
    const ty = b.y - font * 1.35 >= 0 ? b.y - font * 1.35 : b.y + b.height + 2;
    const tx = Math.min(Math.max(0, b.x), Math.max(0, g.canvas.width - tw));
    g.fillStyle = 'rgba(10,12,15,0.85)';
    g.fillRect(tx, ty, tw, font * 1.3);
    g.fillStyle = '#ffffff';
    g.fillText(label, tx + font * 0.3, ty + font * 0.15);
  });
}
