import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAppError } from '../../src/errors.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import {
  decodeImage,
  frameToMat,
  matToFrame,
  readImageFile,
  sniffFormat,
} from '../../src/capture/image-io.js';
import { appErrorCodeOf } from '../support/app-error.js';

const cv = loadOpenCv();
const meta = { cameraId: 'c1', seq: 1, capturedAt: 0, origin: 'test' };

function sampleImage() {
  const m = new cv.Mat(60, 80, cv.CV_8UC3, [10, 100, 200]);
  m.drawCircle(new cv.Point2(40, 30), 20, new cv.Vec3(0, 255, 0), -1);
  return m;
}

t.test('decodeImage decodes PNG and JPEG to 8-bit BGR', async (t) => {
  const png = decodeImage(cv.imencode('.png', sampleImage()), 'a.png');
  t.equal(png.cols, 80);
  t.equal(png.rows, 60);
  t.equal(png.type, cv.CV_8UC3);
  t.same([...png.getData().subarray(0, 3)], [10, 100, 200]);
  const jpg = decodeImage(new Uint8Array(cv.imencode('.jpg', sampleImage())), 'a.jpg');
  t.equal(jpg.type, cv.CV_8UC3);
  t.equal(sniffFormat(cv.imencode('.jpg', sampleImage())), 'jpeg');
});

t.test('decodeImage errors by code', async (t) => {
  t.equal(appErrorCodeOf(() => decodeImage(new Uint8Array(0), 'empty.png')), 'E_IMAGE_EMPTY');
  t.equal(appErrorCodeOf(() => decodeImage(Buffer.from('this is not an image at all'), 'x.png')), 'E_IMAGE_UNDECODABLE');
  const png = cv.imencode('.png', sampleImage());
  t.equal(appErrorCodeOf(() => decodeImage(png.subarray(0, Math.floor(png.length * 0.7)), 'cut.png')), 'E_IMAGE_UNDECODABLE');
  // A PNG signature followed by junk: has no IEND.
  t.equal(appErrorCodeOf(() => decodeImage(Buffer.concat([png.subarray(0, 8), Buffer.alloc(100, 7)]), 'junk.png')), 'E_IMAGE_UNDECODABLE');
});

t.test('a truncated JPEG is rejected although OpenCV would decode it', async (t) => {
  const jpg = cv.imencode('.jpg', sampleImage());
  const cut = jpg.subarray(0, Math.floor(jpg.length * 0.6));
  // This is why the EOI check exists: libjpeg fills the missing rows and reports success.
  t.notOk(cv.imdecode(cut).empty, 'OpenCV decodes the truncated JPEG partially');
  let err: unknown;
  try {
    decodeImage(cut, 'cut.jpg');
  } catch (e) {
    err = e;
  }
  t.ok(isAppError(err, 'E_IMAGE_UNDECODABLE'));
  t.match((err as Error).message, /cut\.jpg.*truncated/);
  // Trailing padding after the end-of-image marker is harmless.
  t.equal(decodeImage(Buffer.concat([jpg, Buffer.alloc(16)]), 'padded.jpg').cols, 80);
});

t.test('decoding normalises grey, alpha and 16-bit images to valid frame layouts', async (t) => {
  const grey = decodeImage(cv.imencode('.png', new cv.Mat(5, 6, cv.CV_8UC1, 77)), 'g.png');
  t.equal(grey.type, cv.CV_8UC1);
  const bgra = decodeImage(cv.imencode('.png', new cv.Mat(5, 6, cv.CV_8UC4, [1, 2, 3, 4])), 'a.png');
  t.equal(bgra.type, cv.CV_8UC3);
  const deep = decodeImage(cv.imencode('.png', new cv.Mat(5, 6, cv.CV_16UC1, 0x1234)), 'd.png');
  t.equal(deep.type, cv.CV_8UC1);
  t.equal(deep.getData()[0], 0x12, '16-bit reduced to its high byte');
});

t.test('readImageFile: I/O and content errors are named', async (t) => {
  const dir = t.testdir({ 'zero.png': '', 'text.png': 'hello' });
  await t.rejects(readImageFile(join(dir, 'zero.png')), { code: 'E_IMAGE_EMPTY' });
  await t.rejects(readImageFile(join(dir, 'text.png')), { code: 'E_IMAGE_UNDECODABLE' });
  await t.rejects(readImageFile(join(dir, 'missing.png')), { code: 'E_IMAGE_UNDECODABLE', details: { reason: 'io' } });
  writeFileSync(join(dir, 'ok.png'), cv.imencode('.png', sampleImage()));
  const m = await readImageFile(join(dir, 'ok.png'));
  t.equal(m.cols, 80);
});

t.test('matToFrame validates and converts', async (t) => {
  const m = sampleImage();
  const f = matToFrame(m, meta);
  t.equal(f.width, 80);
  t.equal(f.height, 60);
  t.equal(f.channels, 3);
  t.equal(f.data.length, 80 * 60 * 3);
  t.same(f.data, m.getData());
  t.equal(f.origin, 'test');
  const bgra = matToFrame(new cv.Mat(4, 4, cv.CV_8UC4, [1, 2, 3, 255]), meta);
  t.equal(bgra.channels, 3);
  t.same([...bgra.data.subarray(0, 3)], [1, 2, 3]);
  t.equal(appErrorCodeOf(() => matToFrame(new cv.Mat(4, 4, cv.CV_16UC1, 5), meta)), 'E_FRAME_INVALID');
  t.equal(appErrorCodeOf(() => matToFrame(new cv.Mat(4, 4, cv.CV_8UC2, [1, 2]), meta)), 'E_FRAME_INVALID');
  t.equal(appErrorCodeOf(() => matToFrame(new cv.Mat(), meta)), 'E_FRAME_INVALID');
  const roi = matToFrame(m.getRegion(new cv.Rect(30, 20, 10, 5)), meta);
  t.equal(roi.width, 10);
  t.same([...roi.data.subarray(0, 3)], [0, 255, 0], 'region of interest compacted');
});

t.test('frameToMat wraps the frame pixels without copying', async (t) => {
  const f = matToFrame(sampleImage(), meta);
  const m = frameToMat(f);
  t.equal(m.cols, 80);
  t.equal(m.type, cv.CV_8UC3);
  t.same(m.getData(), f.data);
  (f.data as Uint8Array)[0] = 42;
  t.equal(m.getData()[0], 42, 'the Mat aliases the frame buffer');
  const resized = m.resize(30, 40);
  t.equal(resized.cols, 40, 'OpenCV operations on it work');
  const grey = frameToMat({ ...meta, width: 3, height: 2, channels: 1, data: new Uint8Array(6).fill(9) });
  t.equal(grey.type, cv.CV_8UC1);
  t.equal(appErrorCodeOf(() => frameToMat({ ...f, data: f.data.subarray(1) })), 'E_FRAME_INVALID');
});

const sample = '../shared/data/mvtec-bottle/test/good/000.png';
t.test('decodes a real MVTec image', { skip: existsSync(sample) ? false : `${sample} not present` }, async (t) => {
  const m = await readImageFile(sample);
  t.ok(m.cols > 100 && m.rows > 100);
  t.equal(m.depth, cv.CV_8U);
});
