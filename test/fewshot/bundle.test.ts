import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAppError, ErrorCodes } from '../../src/errors.js';
import { loadBundle, parseManifest, sha256File } from '../../src/fewshot/bundle.js';
import { BUNDLE_SCHEMA_ID } from '../../src/fewshot/bundle-manifest.js';
import { defaultBundleDir } from './fixtures.js';

const ENCODER = Buffer.from('not really a graph: loadBundle only checks presence and checksum');

function manifest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: BUNDLE_SCHEMA_ID,
    id: 'tiny-test',
    version: '1',
    kind: 'patch-features',
    files: [{ path: 'encoder.onnx', sha256: createHash('sha256').update(ENCODER).digest('hex'), bytes: ENCODER.length, role: 'encoder' }],
    encoder: {
      file: 'encoder.onnx',
      input: {
        name: 'pixels', layout: 'NCHW', width: 224, height: 224, dynamicSize: true, sizeMultiple: 32,
        resize: 'squash', channelOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1],
      },
      taps: [
        { output: 'tap_a', name: 'a', channels: 8, stride: 8 },
        { output: 'tap_b', name: 'b', channels: 16, stride: 16 },
      ],
    },
    provenance: { source: 'test', license: 'MIT', builtBy: 'test' },
    ...over,
  };
}

function writeBundle(dir: string, m: unknown = manifest(), encoder: Buffer | null = ENCODER): string {
  writeFileSync(join(dir, 'manifest.json'), typeof m === 'string' ? m : JSON.stringify(m));
  if (encoder) writeFileSync(join(dir, 'encoder.onnx'), encoder);
  return dir;
}

async function rejectsWith(t: Test, p: Promise<unknown>, code: string, what: string) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  t.ok(isAppError(e), `${what}: an AppError`);
  t.equal((e as { code?: string })?.code, code, `${what}: ${code}`);
}

t.test('a valid bundle loads and verifies', async (t) => {
  const dir = writeBundle(t.testdir());
  const b = await loadBundle(dir);
  t.equal(b.manifest.id, 'tiny-test');
  t.equal(b.encoderPath, join(dir, 'encoder.onnx'));
  t.equal(await sha256File(b.encoderPath), createHash('sha256').update(ENCODER).digest('hex'));
});

t.test('missing manifest or listed file → E_BUNDLE_MISSING_FILE', async (t) => {
  await rejectsWith(t, loadBundle(t.testdir()), ErrorCodes.BUNDLE_MISSING_FILE, 'no manifest.json');
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), manifest(), null)), ErrorCodes.BUNDLE_MISSING_FILE, 'no encoder.onnx');
  const e = await loadBundle(writeBundle(t.testdir(), manifest(), null)).catch((x: Error) => x);
  t.match((e as Error).message, /encoder\.onnx is missing/, 'names the file');
});

t.test('a changed byte or size → E_BUNDLE_CHECKSUM; verify:false skips the check', async (t) => {
  const flipped = Buffer.from(ENCODER);
  flipped[3] ^= 1;
  const dir = writeBundle(t.testdir(), manifest(), flipped);
  await rejectsWith(t, loadBundle(dir), ErrorCodes.BUNDLE_CHECKSUM, 'flipped byte');
  t.equal((await loadBundle(dir, { verify: false })).manifest.id, 'tiny-test', 'verify:false loads it');
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), manifest(), Buffer.concat([ENCODER, Buffer.from('x')]))), ErrorCodes.BUNDLE_CHECKSUM, 'extra byte');
});

t.test('invalid manifests → E_BUNDLE_INVALID', async (t) => {
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), '{ not json')), ErrorCodes.BUNDLE_INVALID, 'not JSON');
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), manifest({ schema: 'other@1' }))), ErrorCodes.BUNDLE_INVALID, 'wrong schema id');
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), manifest({ extra: true }))), ErrorCodes.BUNDLE_INVALID, 'unknown key');
  await rejectsWith(t, loadBundle(writeBundle(t.testdir(), manifest({ id: 'Upper Case' }))), ErrorCodes.BUNDLE_INVALID, 'bad id');

  const m = manifest();
  const enc = m.encoder as Record<string, unknown>;
  t.throws(() => parseManifest({ ...m, encoder: { ...enc, file: 'other.onnx' } }, 'x'), { code: ErrorCodes.BUNDLE_INVALID, message: /not listed/ }, 'encoder file not listed');
  const taps = enc.taps as unknown[];
  t.throws(() => parseManifest({ ...m, encoder: { ...enc, taps: [taps[0], { ...(taps[1] as object), output: 'tap_a' }] } }, 'x'), { code: ErrorCodes.BUNDLE_INVALID, message: /duplicate/ }, 'duplicate tap outputs');
  t.throws(() => parseManifest({ ...m, encoder: { ...enc, taps: [] } }, 'x'), { code: ErrorCodes.BUNDLE_INVALID }, 'no taps');
  const e = (() => { try { parseManifest({ ...m, version: '', files: [] }, 'where.json'); } catch (x) { return x as Error; } })();
  t.match(e?.message, /where\.json/, 'message names the file');
  t.match(e?.message, /\/version/, 'message lists the problems with their paths');
  t.match(e?.message, /\/files/);
});

t.test('the default bundle loads and verifies', async (t) => {
  const dir = await defaultBundleDir();
  const b = await loadBundle(dir);
  t.equal(b.manifest.id, 'mobilenetv2-nsfwjs');
  t.equal(b.manifest.encoder.taps.length, 4);
  const raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { sha256: string }[] };
  t.equal(raw.files[0].sha256, await sha256File(b.encoderPath), 'encoder sha256 matches the manifest');
});
