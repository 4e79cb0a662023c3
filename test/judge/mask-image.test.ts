import t from 'tap';
import { loadOpenCv } from '../../src/capture/opencv.js';
import type { Frame } from '../../src/capture/frame.js';
import { maskPng, overlayPng } from '../../src/judge/mask-image.js';
import { findRegions } from '../../src/judge/regions.js';

const cv = loadOpenCv();
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 8×8 map with a hot 2×2 square at columns 4–5, rows 2–3. */
function squareMap(): Float32Array {
  const m = new Float32Array(64);
  for (let y = 2; y < 4; y++) for (let x = 4; x < 6; x++) m[y * 8 + x] = 1;
  return m;
}

t.test('maskPng decodes to a single-channel 0/255 mask at frame size', async (t) => {
  const png = maskPng(squareMap(), 8, 8, 0.5, 80, 40);
  t.same([...png.subarray(0, 8)], PNG_SIGNATURE);
  const back = cv.imdecode(png, cv.IMREAD_UNCHANGED);
  t.equal(back.cols, 80);
  t.equal(back.rows, 40);
  t.equal(back.channels, 1);
  const d = back.getData();
  const at = (x: number, y: number): number => d[y * 80 + x];
  t.equal(at(50, 15), 255, 'centre of the hot square is set');
  t.equal(at(5, 5), 0, 'far corner is clear');
  t.equal(at(79, 39), 0);
  t.ok(d.every((v) => v === 0 || v === 255), 'binary');
  // The hot 2×2 map pixels cover frame x 40–59, y 10–19 (200 px). Resized bilinearly before
  // thresholding at half the peak, the set region fills that box except its corners, which
  // come out rounded (a blocky nearest-neighbour mask would be exactly the 200-px box).
  const set = d.reduce((s, v) => s + (v ? 1 : 0), 0);
  t.ok(set > 150 && set < 200, `set pixels ${set}`);
  t.equal(at(40, 10), 0, 'box corner is cut (smooth edge)');
  t.equal(at(41, 15), 255, 'left edge of the box is set mid-height');
  t.equal(at(38, 15), 0, 'outside the box is clear');
});

t.test('maskPng without resize keeps exact pixels; rejects a wrong-sized map', async (t) => {
  const png = maskPng(squareMap(), 8, 8, 0.5, 8, 8);
  const d = cv.imdecode(png, cv.IMREAD_UNCHANGED).getData();
  const set = [...d].map((v, i) => (v ? i : -1)).filter((i) => i >= 0);
  t.same(set, [2 * 8 + 4, 2 * 8 + 5, 3 * 8 + 4, 3 * 8 + 5]);
  t.throws(() => maskPng(new Float32Array(10), 8, 8, 0.5, 8, 8), RangeError);
});

function greyFrame(w: number, h: number, channels: 1 | 3): Frame {
  return {
    cameraId: 'cam', seq: 1, capturedAt: Date.now(), width: w, height: h, channels,
    data: new Uint8Array(w * h * channels).fill(128), origin: 'test',
  };
}

t.test('overlayPng is a PNG at frame size with heat, boxes and a banner', async (t) => {
  const frame = greyFrame(160, 120, 3);
  const map = squareMap();
  const locations = findRegions(map, 8, 8, { threshold: 0.5, frameWidth: 160, frameHeight: 120 });
  const png = overlayPng(frame, map, 8, 8, { threshold: 0.5, locations, pass: false, score: 1 });
  t.same([...png.subarray(0, 8)], PNG_SIGNATURE);
  const img = cv.imdecode(png);
  t.equal(img.cols, 160);
  t.equal(img.rows, 120);
  t.equal(img.channels, 3);
  const px = (x: number, y: number): number[] => [...img.getData().subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3)];
  t.same(px(10, 100), [128, 128, 128], 'cold area is the untouched frame');
  const hot = px(110, 45); // inside the square (map 4–5 × 2–3 → frame 80–120 × 30–60)
  t.not(hot.join(), '128,128,128', 'hot area is tinted');
  t.ok(hot[2] > hot[0], `2×threshold is red in JET (BGR ${hot})`);
  const banner = px(150, 2);
  t.ok(banner[2] > 150 && banner[1] < 80, `FAIL banner is red (BGR ${banner})`);
  t.equal(frame.data[0], 128, 'the frame itself is not drawn on');

  const passPng = overlayPng(greyFrame(160, 120, 1), new Float32Array(64), 8, 8, { threshold: 0.5, locations: [], pass: true, score: 0.1 });
  const passImg = cv.imdecode(passPng);
  t.equal(passImg.cols, 160);
  const b = [...passImg.getData().subarray((2 * 160 + 150) * 3, (2 * 160 + 150) * 3 + 3)];
  t.ok(b[1] > 120 && b[2] < 80, `PASS banner is green (BGR ${b})`);
});

t.test('overlayPng accepts a Mat and leaves it unchanged', async (t) => {
  const mat = new cv.Mat(60, 80, cv.CV_8UC3, [20, 40, 60]);
  const png = overlayPng(mat, squareMap(), 8, 8, { threshold: 0.5, locations: [], pass: false, score: 0.9 });
  const img = cv.imdecode(png);
  t.equal(img.cols, 80);
  t.equal(img.rows, 60);
  t.same([...mat.getData().subarray(0, 3)], [20, 40, 60]);
});
