import t from 'tap';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Frame } from '../../src/capture/frame.js';
import { matToFrame } from '../../src/capture/image-io.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { ErrorCodes } from '../../src/errors.js';
import { openEngine } from '../../src/fewshot/engine.js';
import { cpuEngine, defaultBundleDir, silentLogger, simRenders } from './fixtures.js';

const cv = loadOpenCv();

function frameOf(data: Uint8Array, width: number, height: number, channels: number): Frame {
  return { cameraId: 'c', seq: 1, capturedAt: 0, width, height, channels: channels as 1 | 3, data, origin: 'test' };
}

t.test('openEngine: default bundle on cpu, every tap by default, chosen taps by name or output', async (t) => {
  const engine = await cpuEngine();
  t.teardown(() => engine.close());
  t.equal(engine.provider, 'cpu');
  t.equal(engine.bundle.manifest.id, 'mobilenetv2-nsfwjs');
  t.same(engine.taps.map((x) => x.name), ['block_2_add', 'block_5_add', 'block_12_add', 'block_15_add']);
  t.equal(engine.inputSpec.sizeMultiple, 32);

  const some = await cpuEngine(['block_12_add', 'tap_block_5_add']);
  t.teardown(() => some.close());
  t.same(some.taps.map((x) => x.output), ['tap_block_12_add', 'tap_block_5_add'], 'in the order asked');
  const [clean] = await simRenders([1]);
  const enc = await some.encoder.encode(clean.clean, { width: 224, height: 224 });
  t.same(enc.taps.map((x) => x.tap.name), ['block_12_add', 'block_5_add'], 'the encoder returns only those taps');
});

t.test('openEngine: an unknown tap name → E_RECIPE_BUNDLE_MISMATCH', async (t) => {
  await t.rejects(cpuEngine(['block_5_add', 'block_99_add']), { code: ErrorCodes.RECIPE_BUNDLE_MISMATCH, message: /no tap block_99_add/ });
});

t.test('openEngine: a missing bundle → E_BUNDLE_MISSING_FILE', async (t) => {
  await t.rejects(
    openEngine(cv, { bundleDir: t.testdir(), executionProviders: ['cpu'], intraOpThreads: 1 }, silentLogger()),
    { code: ErrorCodes.BUNDLE_MISSING_FILE },
  );
});

t.test('encoder: tap shapes at 224×224 and 448×192, Frame and Mat agree', async (t) => {
  const engine = await cpuEngine();
  t.teardown(() => engine.close());
  const [part] = await simRenders([3], { width: 320, height: 240 });
  const frame = matToFrame(part.clean, { cameraId: 'c', seq: 1, capturedAt: 0, origin: 'sim:3' });
  const strides = engine.taps.map((x) => x.stride);
  for (const size of [{ width: 224, height: 224 }, { width: 448, height: 192 }]) {
    engine.encoder.validateSize(size);
    const fromFrame = await engine.encoder.encode(frame, size);
    t.same(
      fromFrame.taps.map((x) => [x.channels, x.height, x.width]),
      engine.taps.map((x, i) => [x.channels, size.height / strides[i], size.width / strides[i]]),
      `${size.width}×${size.height}: C × H/stride × W/stride per tap`,
    );
    for (const x of fromFrame.taps) {
      t.equal(x.data.length, x.channels * x.height * x.width, `${x.tap.name}: data length`);
      t.same(x.tensor.dims, [1, x.channels, x.height, x.width]);
    }
    t.same(fromFrame.crop, { x: 0, y: 0, width: 320, height: 240 }, 'squash bundle: the whole frame');
    t.ok(fromFrame.preprocessMs >= 0 && fromFrame.encoderMs > 0, 'timings');
    const fromMat = await engine.encoder.encode(part.clean, size);
    t.same(fromMat.taps[1].data, fromFrame.taps[1].data, 'a Mat and a Frame of the same pixels encode identically');
  }
});

t.test('encoder: input normalisation matches the manifest (RGB, /255) on a bare session', async (t) => {
  const engine = await cpuEngine(['block_15_add']);
  t.teardown(() => engine.close());
  const [part] = await simRenders([4]); // already 224×224: no resize
  const size = { width: 224, height: 224 };
  const enc = await engine.encoder.encode(part.clean, size);
  const bgr = part.clean.getData();
  const x = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < 224 * 224; i++) {
    x[i] = bgr[3 * i + 2] / 255;
    x[224 * 224 + i] = bgr[3 * i + 1] / 255;
    x[2 * 224 * 224 + i] = bgr[3 * i] / 255;
  }
  const session = await engine.openSession(await readFile(engine.bundle.encoderPath));
  const out = await session.run({ pixels: new ort.Tensor('float32', x, [1, 3, 224, 224]) }, ['tap_block_15_add']);
  const want = out.tap_block_15_add.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - enc.taps[0].data[i]));
  t.ok(worst < 1e-4, `encoder output equals a bare run on RGB/255 input (max diff ${worst.toExponential(2)})`);
  // Swapped channels would give a clearly different result: the check above means something.
  const swapped = x.slice();
  swapped.set(x.subarray(2 * 224 * 224), 0);
  swapped.set(x.subarray(0, 224 * 224), 2 * 224 * 224);
  const other = (await session.run({ pixels: new ort.Tensor('float32', swapped, [1, 3, 224, 224]) }, ['tap_block_15_add'])).tap_block_15_add.data as Float32Array;
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - other[i]));
  t.ok(diff > 1e-2, `BGR input differs (max diff ${diff.toFixed(3)})`);
  await session.release();
});

t.test('encoder: size validation and invalid frames', async (t) => {
  const engine = await cpuEngine(['block_15_add']);
  t.teardown(() => engine.close());
  t.throws(() => engine.encoder.validateSize({ width: 230, height: 224 }), { code: ErrorCodes.RECIPE_INVALID, message: /230x224/ });
  t.throws(() => engine.encoder.validateSize({ width: 224, height: 100 }), { code: ErrorCodes.RECIPE_INVALID });
  t.doesNotThrow(() => engine.encoder.validateSize({ width: 448, height: 192 }));
  const size = { width: 224, height: 224 };
  await t.rejects(engine.encoder.encode(frameOf(new Uint8Array(64 * 48 * 4), 64, 48, 4), size), { code: ErrorCodes.FRAME_INVALID }, '4-channel frame');
  await t.rejects(engine.encoder.encode(frameOf(new Uint8Array(64 * 48 * 3 - 1), 64, 48, 3), size), { code: ErrorCodes.FRAME_INVALID }, 'wrong data length');
  await t.rejects(engine.encoder.encode(new cv.Mat(48, 64, cv.CV_8UC4, [1, 2, 3, 4]), size), { code: ErrorCodes.FRAME_INVALID }, '4-channel Mat');
  // A region-of-interest view of exactly the input size (no resize happens) is encoded like a compact Mat.
  const big = new cv.Mat(300, 300, cv.CV_8UC3, [10, 20, 30]);
  big.drawRectangle(new cv.Rect(50, 60, 40, 40), new cv.Vec3(200, 100, 0), -1);
  const roi = big.getRegion(new cv.Rect(10, 10, 224, 224));
  const fromRoi = await engine.encoder.encode(roi, size);
  const fromCopy = await engine.encoder.encode(roi.copy(), size);
  t.same(fromRoi.taps[0].data, fromCopy.taps[0].data, 'an ROI view encodes like its copy');
  const grey = await engine.encoder.encode(frameOf(new Uint8Array(64 * 48).fill(128), 64, 48, 1), size);
  t.same(grey.taps[0].tensor.dims, [1, 160, 7, 7], 'a grey frame is accepted');
});

t.test('close: releases sessions, tolerates ones already released', async (t) => {
  const engine = await cpuEngine(['block_15_add']);
  const s = await engine.openSession(await readFile((await defaultBundleDir()) + '/encoder.onnx'));
  await s.release();
  await t.resolves(engine.close(), 'close after a caller released its session');
});
