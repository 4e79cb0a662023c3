/**
 * The whole export path (issue 4): `python3 -m anomalygpt_export.export_bundle` writes a reduced-size random
 * AnomalyGPT bundle (ImageBind-structured encoder, decoder + prototypes, prompt learner,
 * llama_proj, a Llama LLM with a trained SentencePiece tokenizer) and the TS runtime loads it with
 * every load-time check (`AnomalyGpt.load`), reproduces PyTorch's SPEC §3 map, prompts and image
 * token through its own stages, gives the threshold-free verdict and answers in a dialogue; the
 * same bundle with int4 LLM weights loads and runs too. Skips without Debian's python3-torch.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnomalyGpt } from '../../src/vlm/anomalygpt.js';
import { createLogger } from '../../src/log.js';
import { maxAbsDiff as maxAbs } from '../vlm/llm/fixtures.js';
import { pythonMissing, readF32 as f32, runExport, succeeded } from '../support/python.js';

const skip = pythonMissing(['torch', 'onnx', 'sentencepiece', 'numpy', 'jsonschema']);

const logger = createLogger({ level: 'silent' });

t.test('export_bundle → AnomalyGpt.load → the same numbers as PyTorch → verdict and dialogue', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'agpt-bundle-export-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const t0 = Date.now();
  succeeded(runExport('export_bundle', ['--out', join(out, 'fp32'), '--random', '--reduced', '--seed', '2', '--reference', '--class', 'gear wheel']), 'export_bundle');
  t.comment(`export_bundle --random --reduced: ${Date.now() - t0} ms`);
  const dir = join(out, 'fp32');
  const ref = join(dir, 'reference');
  const ix = JSON.parse(readFileSync(join(ref, 'index.json'), 'utf8')) as { tensors: Record<string, { file: string }>; mapClass: string };
  const r = (name: string) => f32(join(ref, ix.tensors[name].file));

  const model = await AnomalyGpt.load(dir, { logger, partName: ix.mapClass, intraOpThreads: 1 });
  t.teardown(() => model.release());
  t.equal(model.manifest.textPrototypes.classes.at(-1), 'gear wheel', 'a plant\'s own part name is in the table');

  const enc = await model.vision.encode(r('pixel'));
  const embErr = maxAbs(enc.imgEmb, r('img_emb'));
  t.ok(embErr < 1e-5, `img_emb vs PyTorch: ${embErr.toExponential(2)}`);
  const map = await model.vision.unsupervisedMap(enc.taps);
  const mapErr = maxAbs(map, r('anomaly_map'));
  t.ok(mapErr < 1e-4, `SPEC §3 map (TS graph from decoder.bin + prototypes) vs PyTorch: ${mapErr.toExponential(2)}`);
  const prompts = await model.vision.prompts(r('anomaly_map'));
  const pErr = maxAbs(prompts, r('prompts'));
  t.ok(pErr < 1e-4, `prompt learner vs PyTorch: ${pErr.toExponential(2)}`);
  const token = await model.vision.imageToken(r('img_emb'));
  t.ok(maxAbs(token, r('image_token')) < 1e-5, 'llama_proj vs PyTorch');

  const conv = model.conversation({ imageToken: token, prompts });
  const v = await conv.verdict(model.question);
  t.ok(v.pYes > 0 && v.pYes < 1, `threshold-free verdict P(yes) = ${v.pYes.toExponential(2)} from one prefill of ${v.fedPositions} positions`);
  const a = await conv.ask('Is there any anomaly in the image?', { maxNewTokens: 8 });
  t.equal(a.ids.length, 8, 'an answer of the requested length (random weights)');
  const b = await conv.ask('Where?', { maxNewTokens: 4 });
  t.ok(b.prefill.reused > a.prefill.reused, `turn 2 reuses ${b.prefill.reused} cached positions`);

  // The same bundle with int4 LLM weights (MatMulNBits): loads through every check, same verdict side.
  succeeded(runExport('export_bundle', ['--out', join(out, 'int4'), '--random', '--reduced', '--seed', '2', '--int4']), 'export_bundle --int4');
  const llmManifest = JSON.parse(readFileSync(join(out, 'int4', 'llm', 'manifest.json'), 'utf8'));
  t.match(llmManifest.provenance.notes ?? '', /int4|MatMulNBits/i, 'the LLM manifest records the quantisation');
  const q = await AnomalyGpt.load(join(out, 'int4'), { logger, partName: ix.mapClass, intraOpThreads: 1 });
  t.teardown(() => q.release());
  const qv = await q.conversation({ imageToken: token, prompts }).verdict(q.question);
  t.ok(qv.pYes > 0 && qv.pYes < 1, `int4 P(yes) = ${qv.pYes.toExponential(2)} (fp32 ${v.pYes.toExponential(2)}; random weights, so only the path is checked)`);
  const sizeOf = (d: string) => readFileSync(join(out, d, 'llm', 'llm.onnx')).byteLength;
  t.ok(sizeOf('int4') < sizeOf('fp32'), `llm.onnx ${sizeOf('fp32')} → ${sizeOf('int4')} bytes`);
});
