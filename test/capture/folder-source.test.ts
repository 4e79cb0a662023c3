import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { FolderSource } from '../../src/capture/folder-source.js';
import { naturalCompare, truthLabelForPath } from '../../src/capture/image-files.js';
import type { Frame } from '../../src/capture/frame.js';
import type { CaptureLogger } from '../../src/capture/frame-source.js';

const cv = loadOpenCv();

function png(value: number, width = 16, height = 12): Buffer {
  return cv.imencode('.png', new cv.Mat(height, width, cv.CV_8UC3, [value, value, value]));
}

function recordingLogger() {
  const warnings: Array<Record<string, unknown>> = [];
  const logger: CaptureLogger = {
    warn: (obj) => void warnings.push(obj as Record<string, unknown>),
    info: () => {},
    debug: () => {},
  };
  return { logger, warnings };
}

/** good PNGs whose value encodes the expected order, plus three bad ones and non-images. */
function makeFolder(t: { testdir: (typeof import('tap'))['default']['testdir'] }): string {
  const full = png(1);
  const dir = t.testdir({
    'img10.png': png(10),
    'img2.png': png(2),
    'IMG1.PNG': png(1),
    'img3.jpg': cv.imencode('.jpg', new cv.Mat(12, 16, cv.CV_8UC3, [3, 3, 3])),
    'img4.png': '', // zero bytes
    'img5.png': full.subarray(0, full.length - 30), // truncated
    'img6.png': 'just some text, not a PNG',
    'img7.bmp': cv.imencode('.bmp', new cv.Mat(12, 16, cv.CV_8UC3, [7, 7, 7])),
    'notes.txt': 'ignored',
    sub: { 'img0.png': png(0) }, // not recursive
  });
  return dir;
}

async function readAll(source: FolderSource, max = 100): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let i = 0; i < max; i++) {
    const f = await source.read();
    if (!f) break;
    frames.push(f);
  }
  return frames;
}

t.test('replays good images in natural order and skips bad files', async (t) => {
  const dir = makeFolder(t);
  const { logger, warnings } = recordingLogger();
  const source = new FolderSource({ kind: 'folder', path: dir, loop: false }, { cameraId: 'cam', logger, now: () => 123 });
  t.equal(source.live, false);
  await source.open();
  const frames = await readAll(source);
  t.same(
    frames.map((f) => f.origin),
    ['IMG1.PNG', 'img2.png', 'img3.jpg', 'img7.bmp', 'img10.png'].map((n) => join(dir, n)),
  );
  t.same(frames.map((f) => f.data[0]), [1, 2, 3, 7, 10]);
  t.same(frames.map((f) => f.seq), [1, 2, 3, 4, 5]);
  t.equal(frames[0].width, 16);
  t.equal(frames[0].capturedAt, 123);
  t.equal(source.counters.unreadable, 3);
  t.equal(source.counters.frames, 5);
  t.same(warnings.map((w) => w.code), ['E_IMAGE_EMPTY', 'E_IMAGE_UNDECODABLE', 'E_IMAGE_UNDECODABLE']);
  t.equal(await source.read(), null, 'stays ended');
  await source.close();
});

t.test('loop restarts and does not recount bad files', async (t) => {
  const dir = makeFolder(t);
  const { logger, warnings } = recordingLogger();
  const source = new FolderSource({ kind: 'folder', path: dir, loop: true }, { cameraId: 'cam', logger });
  await source.open();
  const frames = await readAll(source, 12);
  t.equal(frames.length, 12);
  t.same(frames.slice(5, 7).map((f) => f.data[0]), [1, 2], 'second pass starts at the first file');
  t.equal(source.counters.unreadable, 3);
  t.equal(warnings.length, 3);
});

t.test('a looping folder of only bad files ends instead of spinning', async (t) => {
  const dir = t.testdir({ 'a.png': '', 'b.png': 'text' });
  const { logger } = recordingLogger();
  const source = new FolderSource({ kind: 'folder', path: dir, loop: true }, { cameraId: 'cam', logger });
  await source.open();
  t.equal(await source.read(), null);
  t.equal(source.counters.unreadable, 2);
});

t.test('missing or empty folders fail to open with E_CAMERA_OPEN', async (t) => {
  const dir = t.testdir({ 'readme.txt': 'no images' });
  const { logger } = recordingLogger();
  await t.rejects(new FolderSource({ kind: 'folder', path: dir, loop: false }, { cameraId: 'c', logger }).open(), {
    code: 'E_CAMERA_OPEN',
  });
  await t.rejects(
    new FolderSource({ kind: 'folder', path: join(dir, 'nope'), loop: false }, { cameraId: 'c', logger }).open(),
    { code: 'E_CAMERA_OPEN', message: /nope/ },
  );
  await t.rejects(new FolderSource({ kind: 'folder', path: dir, loop: false }, { cameraId: 'c', logger }).read(), {
    code: 'E_CAMERA_READ',
  });
});

t.test('labelled replay from the MVTec layout', async (t) => {
  const dir = t.testdir({ bottle: { train: { good: {} }, test: { good: {}, broken_large: {} } } });
  writeFileSync(join(dir, 'bottle/test/good/000.png'), png(5));
  writeFileSync(join(dir, 'bottle/test/broken_large/000.png'), png(6));
  mkdirSync(join(dir, 'plain'));
  writeFileSync(join(dir, 'plain/000.png'), png(7));
  const { logger } = recordingLogger();
  const label = async (sub: string) => {
    const s = new FolderSource({ kind: 'folder', path: join(dir, sub), loop: false }, { cameraId: 'c', logger });
    await s.open();
    return (await s.read())?.truthLabel;
  };
  t.equal(await label('bottle/test/good'), 'good');
  t.equal(await label('bottle/test/broken_large'), 'defect');
  t.equal(await label('plain'), undefined);
  t.equal(truthLabelForPath('/x/train/good/1.png'), 'good');
  t.equal(truthLabelForPath('/x/test/scratch/1.png'), 'defect');
  t.equal(truthLabelForPath('/x/test/1.png'), undefined, 'file directly under test/ has no type folder');
});

t.test('natural order', async (t) => {
  t.same(['a10', 'a2', 'a1', 'B3', 'img_02'].sort(naturalCompare), ['a1', 'a2', 'a10', 'B3', 'img_02']);
});
