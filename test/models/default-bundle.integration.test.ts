import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Value } from '@sinclair/typebox/value';
import { BundleManifestSchema } from '../../src/fewshot/bundle-manifest.js';
import { buildDefaultBundle, nsfwjsModelDir } from '../../tools/models/build-default-bundle.js';
import { convertToOnnx, DEFAULT_TAPS, loadTfjsLayersModel } from '../../tools/models/tfjs-to-onnx.js';
import { compareWithTfjs, sampleInput, seededInput } from '../../tools/models/verify-default-bundle.js';

// Observed max abs error / max |tfjs value| is ~3e-6 (float32 rounding, BN folding);
// a wrong pad, kernel layout or BN fold gives errors of order 1e-1.
const REL_TOLERANCE = 1e-4;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

t.test('default bundle: manifest, checksums, ONNX shapes, agreement with tfjs', async (t) => {
  const dir = t.testdir();
  const manifest = await buildDefaultBundle(dir);
  const onDisk: unknown = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  t.ok(Value.Check(BundleManifestSchema, onDisk), [...Value.Errors(BundleManifestSchema, onDisk)].map((e) => `${e.path} ${e.message}`).join('; ') || 'manifest validates');
  t.same(onDisk, manifest, 'manifest.json is the returned manifest');
  for (const f of manifest.files) {
    const bytes = readFileSync(join(dir, f.path));
    t.equal(sha256(bytes), f.sha256, `${f.path} sha256`);
    t.equal(bytes.byteLength, f.bytes, `${f.path} bytes`);
  }
  t.same(
    manifest.encoder.taps,
    [
      { output: 'tap_block_2_add', name: 'block_2_add', channels: 24, stride: 4 },
      { output: 'tap_block_5_add', name: 'block_5_add', channels: 32, stride: 8 },
      { output: 'tap_block_12_add', name: 'block_12_add', channels: 96, stride: 16 },
      { output: 'tap_block_15_add', name: 'block_15_add', channels: 160, stride: 32 },
    ],
  );
  t.match(manifest.encoder.input, { name: 'pixels', layout: 'NCHW', channelOrder: 'RGB', scale: 1 / 255, dynamicSize: true, sizeMultiple: 32 });

  const again = await buildDefaultBundle(t.testdir());
  t.equal(again.files[0].sha256, manifest.files[0].sha256, 'build is deterministic');

  const onnxModel = readFileSync(join(dir, manifest.encoder.file));
  const session = await ort.InferenceSession.create(onnxModel, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
  t.same(session.inputNames, ['pixels']);
  t.same(session.outputNames, manifest.encoder.taps.map((tap) => tap.output));
  for (const [w, h] of [[224, 224], [448, 192]]) {
    const outs = await session.run({ pixels: new ort.Tensor('float32', seededInput(w, h).data, [1, 3, h, w]) });
    for (const tap of manifest.encoder.taps) {
      t.same(outs[tap.output].dims, [1, tap.channels, h / tap.stride, w / tap.stride], `${tap.output} at ${w}x${h}`);
    }
  }
  await session.release();

  for (const [w, h] of [[224, 224], [448, 192]]) {
    const { input, source } = sampleInput(w, h);
    const results = await compareWithTfjs({ onnxModel, taps: DEFAULT_TAPS, input });
    for (const r of results) {
      t.ok(r.relError < REL_TOLERANCE, `${r.tap} ${w}x${h} (${source}): max abs ${r.maxAbsError.toExponential(2)} / max |ref| ${r.refMaxAbs.toFixed(2)} < ${REL_TOLERANCE}`);
      t.ok(r.refMaxAbs > 1, `${r.tap} is not trivially zero`);
    }
  }
});

t.test('tap list is a parameter; unfused BN, raw conv and pad taps agree with tfjs', async (t) => {
  const model = await loadTfjsLayersModel(nsfwjsModelDir());
  // Conv_1 is the raw 1×1 conv before its BN (so that BN is not folded); block_1_pad an unfolded Pad.
  const taps = ['block_1_project_BN', 'block_9_add', 'Conv_1', 'block_1_pad'];
  const onnxModel = convertToOnnx(model, { taps, opset: 13 });
  const results = await compareWithTfjs({ onnxModel, taps, input: seededInput(256, 160, 7) });
  t.same(
    results.map((r) => r.shape),
    [
      [1, 24, 40, 64],
      [1, 64, 10, 16],
      [1, 1280, 5, 8],
      [1, 96, 81, 129],
    ],
  );
  for (const r of results) t.ok(r.relError < REL_TOLERANCE, `${r.tap}: rel error ${r.relError.toExponential(2)}`);
  t.throws(() => convertToOnnx(model, { taps: ['no_such_layer'] }), /unknown layer no_such_layer/);
  t.throws(() => convertToOnnx(model, { taps: ['dense_3'] }), /not supported/);
});
