import t from 'tap';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { FolderSource } from '../../src/capture/folder-source.js';
import { naturalCompare, truthLabelForPath } from '../../src/capture/image-files.js';
import type { Frame } from '../../src/capture/frame.js';
import type { CaptureLogger } from '../../src/capture/frame-source.js';
import { realPalettePng } from '../support/image-bytes.js';

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

t.test('a huge image is skipped before decoding and counted by code; a 1×1 image is a frame (too small is the inspector\'s call)', async (t) => {
  const dir = t.testdir({ 'a1.png': png(1), 'a2-huge.png': realPalettePng(20000, 20000), 'a3-dot.png': realPalettePng(1, 1), 'a4.png': png(4), 'a5.txt.png': 'text' });
  const { logger, warnings } = recordingLogger();
  const source = new FolderSource({ kind: 'folder', path: dir, loop: false }, { cameraId: 'cam', logger });
  await source.open();
  const frames = await readAll(source);
  t.same(frames.map((f) => basename(f.origin)), ['a1.png', 'a3-dot.png', 'a4.png']);
  t.same(source.counters.unreadableByCode, { E_IMAGE_TOO_LARGE: 1, E_IMAGE_UNDECODABLE: 1 });
  t.match(warnings[0], { code: 'E_IMAGE_TOO_LARGE', file: join(dir, 'a2-huge.png'), err: /20000×20000/ });
  const strict = new FolderSource({ kind: 'folder', path: dir, loop: false, limits: { maxPixels: 100 } }, { cameraId: 'cam', logger });
  await strict.open();
  t.same((await readAll(strict)).map((f) => basename(f.origin)), ['a3-dot.png'], 'the configured limit applies (16×12 > 100 pixels)');
});

t.test('the position survives a restart: resume after the last file read, not from the first', async (t) => {
  const dir = t.testdir({ replay: { 'img1.png': png(1), 'img2.png': png(2), 'img3.png': png(3), 'img10.png': png(10) }, state: {} });
  const folder = join(dir, 'replay');
  const positionFile = join(dir, 'state', 'sources', 'cam.position.json');
  const { logger } = recordingLogger();
  const make = (loop = false) => new FolderSource({ kind: 'folder', path: folder, loop, positionFile }, { cameraId: 'cam', logger });

  const first = make();
  await first.open();
  t.equal((await first.read())?.data[0], 1);
  t.equal((await first.read())?.data[0], 2);
  t.same(JSON.parse(readFileSync(positionFile, 'utf8')), { folder, last: 'img2.png' }, 'saved before decoding: the name of the file read');
  await first.close();

  const second = make();
  await second.open();
  t.same((await readAll(second)).map((f) => f.data[0]), [3, 10], 'the restart goes on after img2.png');
  await second.close();

  const third = make();
  await third.open();
  t.equal(await third.read(), null, 'loop: false stays at its end after a restart');
  writeFileSync(join(folder, 'img11.png'), png(11));
  writeFileSync(join(folder, 'img0.png'), png(0));
  const fourth = make();
  await fourth.open();
  t.same((await readAll(fourth)).map((f) => f.data[0]), [11], 'a file added after the position is read; one sorting before it is not');

  const looping = make(true);
  await looping.open();
  t.same((await readAll(looping, 3)).map((f) => f.data[0]), [0, 1, 2], 'loop: true at the end starts again at the first file');

  rmSync(join(folder, 'img2.png'));
  writeFileSync(positionFile, JSON.stringify({ folder, last: 'img2.png' }));
  const gone = make();
  await gone.open();
  t.equal((await gone.read())?.data[0], 3, 'the saved file was deleted: natural order still finds the next one');
});

t.test('a position that is unusable or of another folder means the first file; failing to save it is not fatal', async (t) => {
  const dir = t.testdir({ replay: { 'a.png': png(1), 'b.png': png(2) }, 'pos.json': '{not json', 'other.json': JSON.stringify({ folder: '/elsewhere', last: 'a.png' }), blocker: 'a file, not a folder' });
  const folder = join(dir, 'replay');
  const { logger, warnings } = recordingLogger();
  const open = async (positionFile: string) => {
    const s = new FolderSource({ kind: 'folder', path: folder, loop: false, positionFile }, { cameraId: 'cam', logger });
    await s.open();
    return s;
  };
  t.equal((await (await open(join(dir, 'pos.json'))).read())?.data[0], 1, 'corrupt position');
  t.match(warnings.at(-1), { problem: /not JSON/ });
  t.equal((await (await open(join(dir, 'other.json'))).read())?.data[0], 1, 'position of another folder');
  const unsaved = await open(join(dir, 'blocker', 'pos.json'));
  t.same((await readAll(unsaved)).map((f) => f.data[0]), [1, 2], 'frames still flow');
  t.equal(warnings.filter((w) => w.positionFile !== undefined).length, 1, 'one warning for the failing saves, not one per file');
});
