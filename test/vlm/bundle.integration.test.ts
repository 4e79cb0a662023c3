/**
 * The tiny AnomalyGPT bundle: deterministic build, manifest validation, every load-time error
 * (missing file, wrong shape, tokenizer/LLM mismatch, unknown part, prompt over the context),
 * and the pure pieces: class resolution (the seed's rule and its defects), prompt strings,
 * PIL-style preprocessing.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { buildTinyBundle } from '../../tools/fixtures/anomalygpt/build-tiny-bundle.js';
import { tinyTokenizerFile } from '../../tools/fixtures/anomalygpt/tiny-tokenizer.js';
import { buildLlamaProjGraph } from '../../tools/fixtures/anomalygpt/vision-graphs.js';
import { AnomalyGpt } from '../../src/vlm/anomalygpt.js';
import { PREBUILT_CLASS_NAMES, prototypeSentences, resolveClassFromPrompt, resolvePartName } from '../../src/vlm/class-names.js';
import { AnomalyGptManifestSchema } from '../../src/vlm/manifest.js';
import { CLIP_MEAN, CLIP_STD, imageBindPixels, resizeBicubicPil, roundHalfEven, shortSideSize } from '../../src/vlm/pil-resize.js';
import { DESCRIPTIONS, anomalyQuestion, historyPrompt, trimAnswer } from '../../src/vlm/prompt-format.js';
import { ErrorCodes, isAppError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

const dir = t.testdir({});
const base = join(dir, 'base');
const logger = createLogger({ level: 'silent' });
const load = (d: string, partName = 'bottle', question?: string) =>
  AnomalyGpt.load(d, { logger, partName, intraOpThreads: 1, ...(question ? { question } : {}) });

t.before(() => buildTinyBundle(base, { seed: 1 }));

async function variant(name: string): Promise<string> {
  const d = join(dir, name);
  await cp(base, d, { recursive: true });
  return d;
}

/** Rewrite `file` and fix the sha256/bytes of its entry in `manifestPath`. */
async function replaceFile(root: string, manifestRel: string, fileRel: string, bytes: Uint8Array): Promise<void> {
  const manifestDir = join(root, manifestRel, '..');
  await writeFile(join(manifestDir, fileRel), bytes);
  const mPath = join(root, manifestRel);
  const m = JSON.parse(await readFile(mPath, 'utf8'));
  const entry = m.files.find((f: { path: string }) => f.path === fileRel);
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  entry.bytes = bytes.byteLength;
  await writeFile(mPath, `${JSON.stringify(m, null, 1)}\n`);
}

async function rejectsWith(t: Test, p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    const got = await p;
    await (got as AnomalyGpt).release?.();
    t.fail(`expected ${code}`);
  } catch (e) {
    t.ok(isAppError(e), `an AppError (${(e as Error).message.slice(0, 160)})`);
    t.equal((e as { code?: string }).code, code);
    t.match((e as Error).message, pattern);
  }
}

t.test('deterministic build; the manifest validates', async (t) => {
  const again = join(dir, 'again');
  const other = join(dir, 'other');
  const [a, b, c] = [JSON.parse(await readFile(join(base, 'manifest.json'), 'utf8')), await buildTinyBundle(again, { seed: 1 }), await buildTinyBundle(other, { seed: 2 })];
  t.ok(Value.Check(AnomalyGptManifestSchema, a));
  t.same(b.files, a.files, 'same seed → same files and sha256');
  t.notSame(c.files.map((f) => f.sha256), a.files.map((f: { sha256: string }) => f.sha256), 'another seed → other weights');
  t.same(a.files.map((f: { role: string }) => f.role).sort(), ['decoder', 'encoder', 'llama-proj', 'llm-manifest', 'prompt-learner', 'text-prototypes']);
  t.equal(a.textPrototypes.classes.length, PREBUILT_CLASS_NAMES.length);
  const m = await load(base, 'metal_nut');
  t.equal(m.part.name, 'metal nut', 'underscores → spaces');
  t.equal(m.llm.manifest.config.ropeLayout, 'half', 'LLM sub-bundle in the HF RoPE layout, as Vicuna');
  await m.release();
});

t.test('missing file → E_BUNDLE_MISSING_FILE', async (t) => {
  const d = await variant('missing');
  await rm(join(d, 'prompt-learner.onnx'));
  await rejectsWith(t, load(d), ErrorCodes.BUNDLE_MISSING_FILE, /prompt-learner\.onnx is missing/);
  const d2 = await variant('missing-llm');
  await rm(join(d2, 'llm', 'embeddings.bin'));
  await rejectsWith(t, load(d2), ErrorCodes.BUNDLE_MISSING_FILE, /embeddings\.bin is missing/);
});

t.test('altered file → E_BUNDLE_CHECKSUM', async (t) => {
  const d = await variant('altered');
  const bytes = await readFile(join(d, 'decoder.bin'));
  bytes[0] ^= 1;
  await writeFile(join(d, 'decoder.bin'), bytes);
  await rejectsWith(t, load(d), ErrorCodes.BUNDLE_CHECKSUM, /decoder\.bin fails its sha256/);
});

t.test('wrong shapes → E_MODEL_SHAPE at load', async (t) => {
  const d = await variant('proj-48');
  const w = { weight: new Float32Array(48 * 32).fill(0.01), bias: new Float32Array(48), out: 48, in: 32 };
  await replaceFile(d, 'manifest.json', 'llama-proj.onnx', buildLlamaProjGraph(w));
  await rejectsWith(t, load(d), ErrorCodes.MODEL_SHAPE, /llama_proj image_token.*\[1, 1, 48\], expected \[1, 1, 64\]/);
  const d2 = await variant('decoder-short');
  await replaceFile(d2, 'manifest.json', 'decoder.bin', new Uint8Array(1000));
  await rejectsWith(t, load(d2), ErrorCodes.MODEL_SHAPE, /decoder .*1000 bytes/);
  const d3 = await variant('width');
  const m = JSON.parse(await readFile(join(d3, 'manifest.json'), 'utf8'));
  m.encoder.width = 32;
  await writeFile(join(d3, 'manifest.json'), JSON.stringify(m));
  await rejectsWith(t, load(d3), ErrorCodes.MODEL_SHAPE, /decoder/);
});

t.test('tokenizer that does not match the LLM → E_LLM_TOKENIZER', async (t) => {
  const d = await variant('tokenizer');
  const llm = JSON.parse(await readFile(join(d, 'llm', 'manifest.json'), 'utf8'));
  await replaceFile(d, 'llm/manifest.json', 'tokenizer.bin', tinyTokenizerFile(llm.config.vocabSize + 64));
  await replaceFile(d, 'manifest.json', 'llm/manifest.json', await readFile(join(d, 'llm', 'manifest.json')));
  await rejectsWith(t, load(d), ErrorCodes.LLM_TOKENIZER, /larger vocabulary than the model/);
});

t.test('unknown part → E_PART_UNKNOWN; names resolve exactly, not by substring', async (t) => {
  await rejectsWith(t, load(base, 'gearbox'), ErrorCodes.PART_UNKNOWN, /part "gearbox".*known: bottle, cable/);
  await rejectsWith(t, load(base, 'applicable cable'), ErrorCodes.PART_UNKNOWN, /applicable cable/);
  t.equal(resolvePartName('Pipe_Fryum', PREBUILT_CLASS_NAMES), PREBUILT_CLASS_NAMES.indexOf('pipe fryum'), 'pipe_fryum keeps its own row');
  t.equal(resolvePartName('pcb1', PREBUILT_CLASS_NAMES), PREBUILT_CLASS_NAMES.indexOf('pcb1'));
});

t.test('question over the context length → E_LLM_CONTEXT at load', async (t) => {
  await rejectsWith(t, load(base, 'bottle', 'Is it broken? '.repeat(200)), ErrorCodes.LLM_CONTEXT, /context is 1024/);
});

t.test("the seed's class choice (SPEC §3) and its defects (SPEC §10.6), reproduced", async (t) => {
  t.equal(resolveClassFromPrompt(anomalyQuestion('bottle')), 'bottle');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.metal_nut), 'metal nut');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.capsules), 'capsule', 'capsules → capsule');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.chewinggum), 'object', '"chewinggom" typo → object');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.pcb3), 'pcb');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.macaroni2), 'macaroni');
  t.equal(resolveClassFromPrompt(DESCRIPTIONS.pipe_fryum), 'fryum', '"fryum" is scanned before "pipe fryum"');
  t.equal(resolveClassFromPrompt('Is this applicable to a bottle?'), 'bottle');
  t.equal(resolveClassFromPrompt('an applicable part'), 'cable', '"applicable" contains "cable"');
  t.equal(resolveClassFromPrompt('a versatile gadget'), 'tile');
  t.equal(resolveClassFromPrompt('a gearbox'), 'object');
  const s = prototypeSentences('bottle');
  t.equal(s.normal.length, 14);
  t.equal(s.abnormal.length, 10);
  t.same(s.normal.slice(0, 3), ['a photo of a bottle.', 'a photo of the bottle.', 'a photo of a flawless bottle.']);
  t.equal(s.abnormal[9], 'a photo of the bottle with damage.');
});

t.test('prompt strings (SPEC §6)', async (t) => {
  t.equal(anomalyQuestion('bottle'), `${DESCRIPTIONS.bottle} Is there any anomaly in the image?`);
  t.equal(historyPrompt([], 'q0'), 'q0');
  t.equal(historyPrompt([{ question: 'q0', answer: 'a0' }, { question: 'q1', answer: 'a1' }], 'q2'), 'q0\n### Assistant: a0\n### Human: q1\n### Assistant: a1\n### Human: q2');
  t.equal(trimAnswer(' No, there is no anomaly in the image.\n###'), 'No, there is no anomaly in the image.');
});

t.test('preprocessing: PIL bicubic geometry, antialiasing, CLIP normalisation, RGB order', async (t) => {
  t.same(shortSideSize(320, 240, 224), { width: 298, height: 224 }, 'long side int(224·320/240)');
  t.same(shortSideSize(900, 900, 224), { width: 224, height: 224 });
  t.same([0.5, 1.5, 2.5, 37, -0.5].map(roundHalfEven), [0, 2, 2, 37, -0], "Python's round");
  const flat = new Uint8Array(50 * 30 * 3).fill(77);
  t.ok(resizeBicubicPil(flat, 50, 30, 3, 17, 11).every((v) => v === 77), 'a flat image stays flat');
  // A 1-px checkerboard shrunk 4×: PIL's stretched kernel averages it to mid-grey.
  const board = new Uint8Array(64 * 64).map((_, i) => (((i % 64) + Math.floor(i / 64)) % 2 ? 255 : 0));
  const small = resizeBicubicPil(board, 64, 64, 1, 16, 16);
  t.ok(small.every((v) => Math.abs(v - 128) <= 2), `antialiased (${Math.min(...small)}…${Math.max(...small)})`);
  const red = new Uint8Array(320 * 240 * 3);
  for (let i = 0; i < red.length; i += 3) red[i + 2] = 255; // BGR
  const px = imageBindPixels(red, 320, 240, 3, { size: 224, resize: 'shorter-side-crop', mean: CLIP_MEAN, std: CLIP_STD });
  t.equal(px.length, 3 * 224 * 224);
  t.ok(Math.abs(px[0] - (1 - CLIP_MEAN[0]) / CLIP_STD[0]) < 1e-6, 'plane 0 is red');
  t.ok(Math.abs(px[224 * 224] - -CLIP_MEAN[1] / CLIP_STD[1]) < 1e-6, 'plane 1 is green');
});
