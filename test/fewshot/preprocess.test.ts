import t from 'tap';
import { cropFor, toNchw, type NormalisationSpec } from '../../src/fewshot/preprocess.js';

t.test('cropFor squash covers the whole frame', async (t) => {
  t.same(cropFor('squash', 640, 480, 224, 224), { x: 0, y: 0, width: 640, height: 480 });
  t.same(cropFor('squash', 1101, 448, 448, 192), { x: 0, y: 0, width: 1101, height: 448 });
});

t.test('cropFor shorter-side-crop: largest centred rectangle of the input aspect', async (t) => {
  // Landscape frame, square input: shorter side kept, centred horizontally (SPEC §1 CenterCrop).
  t.same(cropFor('shorter-side-crop', 640, 480, 224, 224), { x: 80, y: 0, width: 480, height: 480 });
  // Portrait frame, square input.
  t.same(cropFor('shorter-side-crop', 480, 640, 224, 224), { x: 0, y: 80, width: 480, height: 480 });
  // Wide frame, wide input: full height, width = 448·(448/192) rounded, centred.
  t.same(cropFor('shorter-side-crop', 1101, 448, 448, 192), { x: 28, y: 0, width: 1045, height: 448 });
  // Same aspect: the whole frame.
  t.same(cropFor('shorter-side-crop', 448, 192, 448, 192), { x: 0, y: 0, width: 448, height: 192 });
  // Input wider than the frame: full width, height cut.
  t.same(cropFor('shorter-side-crop', 300, 300, 448, 192), { x: 0, y: 86, width: 300, height: 129 });

  for (const [fw, fh, iw, ih] of [[1920, 1080, 224, 224], [333, 777, 256, 192], [1000, 1000, 448, 192], [641, 479, 224, 224]]) {
    const c = cropFor('shorter-side-crop', fw, fh, iw, ih);
    t.ok(c.x >= 0 && c.y >= 0 && c.x + c.width <= fw && c.y + c.height <= fh, `${fw}x${fh}→${iw}x${ih} inside the frame`);
    t.ok(c.width === fw || c.height === fh, 'one side spans the frame');
    t.ok(Math.abs(c.width / c.height - iw / ih) < 2 / Math.min(c.width, c.height), 'aspect of the input (within rounding)');
    t.ok(Math.abs(c.x - (fw - c.width - c.x)) <= 1 && Math.abs(c.y - (fh - c.height - c.y)) <= 1, 'centred');
  }
});

const RGB_SPEC: NormalisationSpec = { channelOrder: 'RGB', scale: 1 / 255, mean: [0.5, 0.25, 0.125], std: [0.5, 0.25, 2] };

t.test('toNchw: BGR pixels to RGB planes, (p·scale − mean)/std', async (t) => {
  // 2×1 image, BGR interleaved: pixel0 B=10 G=20 R=30, pixel1 B=40 G=50 R=60.
  const src = Uint8Array.from([10, 20, 30, 40, 50, 60]);
  const out = new Float32Array(6);
  const r = toNchw(src, 2, 1, 3, RGB_SPEC, out);
  t.equal(r, out, 'writes into and returns the given buffer');
  const f = (p: number, k: number) => (p / 255 - RGB_SPEC.mean[k]) / RGB_SPEC.std[k];
  const expected = [f(30, 0), f(60, 0), f(20, 1), f(50, 1), f(10, 2), f(40, 2)];
  for (let i = 0; i < 6; i++) t.ok(Math.abs(out[i] - expected[i]) < 1e-6, `value ${i}: ${out[i]} vs ${expected[i]}`);
});

t.test('toNchw: BGR channel order keeps OpenCV order', async (t) => {
  const spec: NormalisationSpec = { channelOrder: 'BGR', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };
  const out = toNchw(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 1, 3, spec, new Float32Array(9));
  t.same([...out], [1, 4, 7, 2, 5, 8, 3, 6, 9]);
});

t.test('toNchw: grey input fills all three planes', async (t) => {
  const out = toNchw(Uint8Array.from([0, 255]), 1, 2, 1, RGB_SPEC, new Float32Array(6));
  for (let k = 0; k < 3; k++) {
    t.ok(Math.abs(out[k * 2] - -RGB_SPEC.mean[k] / RGB_SPEC.std[k]) < 1e-6, `plane ${k} black`);
    t.ok(Math.abs(out[k * 2 + 1] - (1 - RGB_SPEC.mean[k]) / RGB_SPEC.std[k]) < 1e-6, `plane ${k} white`);
  }
});

t.test('toNchw: size checks', async (t) => {
  t.throws(() => toNchw(new Uint8Array(5), 2, 1, 3, RGB_SPEC, new Float32Array(6)), RangeError, 'too few source bytes');
  t.throws(() => toNchw(new Uint8Array(6), 2, 1, 3, RGB_SPEC, new Float32Array(5)), RangeError, 'wrong output length');
});
