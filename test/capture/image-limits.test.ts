import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, matToFrame, readImageFile } from '../../src/capture/image-io.js';
import {
  checkModelScale, checkPixelLimit, DEFAULT_MAX_PIXELS, HARD_MAX_PIXELS, MAX_SIDE,
} from '../../src/capture/image-limits.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { bmpHeader, jpegHeader, pngHeaderOnly, realPalettePng, tiffHeader, webpVp8xHeader } from '../support/image-bytes.js';
import { appErrorCodeOf } from '../support/app-error.js';

const cv = loadOpenCv();

t.test('pixel limit: the configured one, capped by the binding limit and OpenCV\'s side limit', async (t) => {
  t.equal(appErrorCodeOf(() => checkPixelLimit(100, 100, { maxPixels: 10_000 }, 'a')), undefined, 'at the limit');
  t.equal(appErrorCodeOf(() => checkPixelLimit(101, 100, { maxPixels: 10_000 }, 'a')), 'E_IMAGE_TOO_LARGE', 'one column above');
  t.equal(appErrorCodeOf(() => checkPixelLimit(16384, 16384, { maxPixels: Number.MAX_SAFE_INTEGER }, 'a')), 'E_IMAGE_TOO_LARGE', 'above the hard cap whatever the setting');
  t.equal(appErrorCodeOf(() => checkPixelLimit(MAX_SIDE + 1, 1, { maxPixels: HARD_MAX_PIXELS }, 'a')), 'E_IMAGE_TOO_LARGE', 'a side above OpenCV\'s limit');
  t.equal(HARD_MAX_PIXELS * 4 <= 0x3fffffff, true, '4 bytes a pixel fit under nan\'s kMaxLength');
  t.throws(() => checkPixelLimit(20000, 20000, { maxPixels: DEFAULT_MAX_PIXELS }, 'scan.png'), {
    message: /scan\.png: image of 20000×20000 \(400\.0 MP\) refused: above images\.maxPixels 40000000/,
    details: { width: 20000, height: 20000 },
  });
});

t.test('too small: the model view enlarged more than 8× along a side', async (t) => {
  const square = { width: 224, height: 224 };
  t.equal(appErrorCodeOf(() => checkModelScale({ width: 28, height: 28 }, square, 'a')), undefined, '28×28 for 224×224 (8×)');
  t.equal(appErrorCodeOf(() => checkModelScale({ width: 27, height: 300 }, square, 'a')), 'E_IMAGE_TOO_SMALL', 'one side is enough');
  t.equal(appErrorCodeOf(() => checkModelScale({ width: 56, height: 24 }, { width: 448, height: 192 }, 'a')), undefined, '448×192 needs 56×24');
  t.equal(appErrorCodeOf(() => checkModelScale({ width: 56, height: 23 }, { width: 448, height: 192 }, 'a')), 'E_IMAGE_TOO_SMALL');
  t.equal(appErrorCodeOf(() => checkModelScale({ width: 0, height: 0 }, square, 'a')), 'E_IMAGE_TOO_SMALL', 'an empty view');
  t.throws(() => checkModelScale({ width: 1, height: 1 }, square, 'dot.png'), {
    message: /dot\.png: 1×1 is far smaller than the model input 224×224 \(at least 28×28/,
  });
});

t.test('huge headers of every format are refused before decoding, whatever their body', async (t) => {
  const huge: [string, Buffer][] = [
    ['png', pngHeaderOnly(20000, 20000)],
    ['jpeg', jpegHeader(65000, 65000)],
    ['bmp', bmpHeader(30000, -30000)],
    ['tiff', tiffHeader(100000, 1000)],
    ['webp', webpVp8xHeader(16384, 16384)],
    ['pnm', Buffer.from('P6\n50000 50000\n255\n')],
  ];
  for (const [format, bytes] of huge) t.equal(appErrorCodeOf(() => decodeImage(bytes, `huge.${format}`)), 'E_IMAGE_TOO_LARGE', format);
  const small = cv.imencode('.png', new cv.Mat(100, 100, cv.CV_8UC3, [1, 2, 3]));
  t.equal(appErrorCodeOf(() => decodeImage(small, 's.png', { maxPixels: 9_999 })), 'E_IMAGE_TOO_LARGE', 'the configured limit applies');
  t.equal(decodeImage(small, 's.png', { maxPixels: 10_000 }).cols, 100, 'and at the limit it decodes');
});

t.test('a real, valid 20000×20000 PNG of 49 kB (a 1.2 GB BGR Mat, the issue\'s crash) is refused unread', async (t) => {
  const path = join(t.testdir(), 'scan.png');
  const bytes = realPalettePng(20000, 20000);
  writeFileSync(path, bytes);
  t.ok(bytes.length < 100_000, `${bytes.length} bytes on disk`);
  const t0 = performance.now();
  await t.rejects(readImageFile(path), { code: 'E_IMAGE_TOO_LARGE', message: /20000×20000/ });
  const ms = performance.now() - t0;
  // Decoding it took 3.6 s and 2.5 GB before the binding aborted (measured, see report).
  t.ok(ms < 1000, `refused in ${ms.toFixed(1)} ms, without decoding`);
  await t.rejects(readImageFile(path, { maxPixels: HARD_MAX_PIXELS }), { code: 'E_IMAGE_TOO_LARGE', message: /images\.maxPixels 268435455/ }, 'the hard cap holds at the largest setting');
  const tiny = join(t.testdir(), 'tiny.png');
  writeFileSync(tiny, realPalettePng(1, 1));
  t.equal((await readImageFile(tiny)).cols, 1, 'a 1×1 image decodes: too small is the encoder\'s call (it knows the input size)');
});

t.test('matToFrame refuses a Mat that getData() could not copy (the binding would abort)', async (t) => {
  // 16384² × 4 bytes = 2^30 > nan's kMaxLength (2^30 − 1). Allocated, never touched.
  const mat = new cv.Mat(16384, 16384, cv.CV_8UC4);
  t.equal(appErrorCodeOf(() => matToFrame(mat, { cameraId: 'c', seq: 1, capturedAt: 0, origin: 'device:0' })), 'E_IMAGE_TOO_LARGE');
  mat.release();
});
