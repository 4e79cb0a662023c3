import t from 'tap';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { OpenCvSource, redactUrl, resolveUrlApi } from '../../src/capture/opencv-source.js';
import { createFrameSource } from '../../src/capture/create-source.js';
import type { CaptureLogger } from '../../src/capture/frame-source.js';

const cv = loadOpenCv();
const logs: Array<[object, string | undefined]> = [];
const logger: CaptureLogger = {
  warn: (o, m) => void logs.push([o, m]),
  info: (o, m) => void logs.push([o, m]),
  debug: () => {},
};
const ctx = { cameraId: 'cam', logger };

/** A 7-frame MJPG .avi whose blue channel encodes the frame number. */
function writeVideo(dir: string, frames = 7): string {
  const path = join(dir, 'clip.avi');
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc('MJPG'), 10, new cv.Size(64, 48), true);
  for (let i = 0; i < frames; i++) writer.write(new cv.Mat(48, 64, cv.CV_8UC3, [i * 30, 60, 90]));
  writer.release();
  return path;
}

t.test('file source reads a written video back', async (t) => {
  const path = writeVideo(t.testdir());
  const source = createFrameSource({ kind: 'file', path, loop: false }, ctx);
  t.equal(source.live, false);
  await source.open();
  const frames = [];
  for (let f = await source.read(); f; f = await source.read()) frames.push(f);
  t.equal(frames.length, 7);
  t.equal(frames[0].width, 64);
  t.equal(frames[0].height, 48);
  t.equal(frames[0].channels, 3);
  t.same(frames.map((f) => f.seq), [1, 2, 3, 4, 5, 6, 7]);
  // MJPG is lossy: the encoded frame number survives to within a few levels.
  t.ok(frames.every((f, i) => Math.abs(f.data[0] - i * 30) <= 6), 'frames in order');
  t.equal(frames[3].origin, path);
  t.equal(await source.read(), null, 'end of stream stays ended');
  await source.close();
  await source.close();
  t.pass('close is idempotent');
});

t.test('looping file source rewinds', async (t) => {
  const path = writeVideo(t.testdir(), 3);
  const source = new OpenCvSource({ kind: 'file', path, loop: true }, ctx);
  await source.open();
  const values = [];
  for (let i = 0; i < 8; i++) values.push((await source.read())!.data[0]);
  t.same(values.map((v) => Math.round(v / 30)), [0, 1, 2, 0, 1, 2, 0, 1]);
  await source.close();
  await t.rejects(source.read(), { code: 'E_CAMERA_READ' }, 'read after close');
});

t.test('a device that does not exist fails with E_CAMERA_OPEN', async (t) => {
  const source = new OpenCvSource({ kind: 'device', index: 99, width: 640 }, ctx);
  t.equal(source.live, true);
  t.equal(source.description, 'device:99');
  await t.rejects(source.open(), { code: 'E_CAMERA_OPEN', message: /device:99/ });
  await source.close();
  await t.rejects(new OpenCvSource({ kind: 'file', path: '/nonexistent/clip.avi', loop: false }, ctx).open(), {
    code: 'E_CAMERA_OPEN',
  });
});

t.test('URL credentials never reach messages or logs', async (t) => {
  t.equal(redactUrl('rtsp://admin:s3cret@10.0.0.5:554/stream1'), 'rtsp://***@10.0.0.5:554/stream1');
  t.equal(redactUrl('http://u:p@ss@cam/x@y'), 'http://***@cam/x@y');
  t.equal(redactUrl('rtsp://cam/stream'), 'rtsp://cam/stream');
  t.equal(
    redactUrl('rtspsrc location=rtsp://a:b@cam user-pw=hunter2 ! decodebin ! appsink'),
    'rtspsrc location=rtsp://***@cam user-pw=*** ! decodebin ! appsink',
  );
  logs.length = 0;
  // Port 1 on loopback refuses at once, so this fails fast without a network.
  const source = new OpenCvSource({ kind: 'url', url: 'rtsp://admin:s3cret@127.0.0.1:1/stream' }, ctx);
  t.notMatch(source.description, /s3cret/);
  const err = await source.open().then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err, { code: 'E_CAMERA_OPEN' });
  t.notMatch(String(err?.message), /s3cret/);
  t.notMatch(JSON.stringify(logs), /s3cret/);
});

t.test('URL api selection', async (t) => {
  t.equal(resolveUrlApi('nvarguscamerasrc ! video/x-raw(memory:NVMM) ! nvvidconv ! appsink'), 'gstreamer');
  t.equal(resolveUrlApi('rtsp://cam/stream'), 'ffmpeg');
  t.equal(resolveUrlApi('/dev/video0'), 'any');
  t.equal(resolveUrlApi('rtsp://cam/stream', 'gstreamer'), 'gstreamer');
  const gst = new OpenCvSource({ kind: 'url', url: 'nosuchelement ! appsink' }, ctx);
  t.match(gst.description, /gstreamer/);
  await t.rejects(gst.open(), { code: 'E_CAMERA_OPEN' });
});
