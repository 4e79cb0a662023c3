/**
 * The Python LLM export (anomalygpt_export.export_llm, README "6. llm/") at reduced size, checked
 * through the runtime that ships it: a random Llama with HF key names, a random PandaGPT-shaped
 * LoRA delta (peft key names, fp16) merged in, exported with torch.onnx, then loaded by
 * loadLlmBundle. The ONNX logits must match PyTorch's reference, which runs the *unmerged* base
 * with LoRA as a side branch, so the merge and the export are checked end to end; greedy ids must
 * match a PyTorch greedy loop. The same network is also exported from a reduced "Vicuna folder"
 * (config.json, fp16 shards + index, tokenizer.model: the real export's path) and must give the
 * same files; its decoder re-saved with external data (the > 2 GB layout) must still load.
 * Needs /usr/bin/python3 with torch, onnx and sentencepiece.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCodes } from '../../src/errors.js';
import type { LlmManifest } from '../../src/vlm/llm/llm-manifest.js';
import { maxAbsDiff, openBundle, tokenizerFile } from '../vlm/llm/fixtures.js';
import { pythonMissing, readF32 as f32, runExport, runPyFixture, succeeded } from '../support/python.js';

const DIMS = { hidden: 64, layers: 2, heads: 4, intermediate: 172, contextLength: 256 };
// float32 PyTorch vs onnxruntime on logits of magnitude ~17 (reference.json logitsAbsMax).
const LOGIT_TOL = 1e-4;

/** Rewrites the manifest's sha256/bytes after files were replaced (and lists `extra` files). */
function rehash(dir: string, extra: { path: string; role: 'other' }[] = []): void {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as LlmManifest;
  m.files.push(...extra.map((e) => ({ ...e, sha256: '', bytes: 0 })));
  for (const f of m.files) {
    const bytes = readFileSync(join(dir, f.path));
    f.sha256 = createHash('sha256').update(bytes).digest('hex');
    f.bytes = bytes.byteLength;
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
}

interface Reference {
  prefill: { length: number; embeds: string; logits: string };
  step: { position: number; embeds: string; logits: string };
  masked: { attentionMask: number[]; positionOffset: number; embeds: string; logits: string };
  logitsAbsMax: number;
  greedy: { promptText: string; promptIds: number[]; ids: number[]; minMargin: number };
  lora: { matchedKeys: number; weightMaxAbsErr: number; matvecMaxAbsErr: number; forwardMaxAbsDiff: number; loraEffectMaxAbs: number; prefixes: Record<string, number>; otherKeys: string[] };
  tokens: { vocabSize: number; hashHash: number; hashHashHash: number; yesFirst: number; noFirst: number };
}

const missing = pythonMissing(['torch', 'onnx', 'sentencepiece', 'jsonschema']);
t.test('export_llm random reduced bundle', { skip: missing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-export-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'llm');
  const fromHf = join(dir, 'llm-from-hf');
  const hfDir = join(dir, 'vicuna-reduced');
  const delta = join(dir, 'pandagpt-delta.pt');
  succeeded(runExport('lora_merge', ['make-random-delta', delta, '--config', JSON.stringify(DIMS), '--seed', '5']), 'make-random-delta');
  succeeded(runPyFixture('make_random_hf.py', [hfDir, '--config', JSON.stringify(DIMS), '--seed', '2', '--pad-token']), 'make_random_hf.py');
  // Random mode trains its own tokenizer (the same deterministic one make_random_hf.py wrote).
  succeeded(runExport('export_llm', [out, '--random-config', JSON.stringify(DIMS), '--pandagpt-ckpt', delta, '--seed', '2', '--id', 'tiny-export']), 'export_llm (random)');
  succeeded(runExport('export_llm', [fromHf, '--vicuna-dir', hfDir, '--pandagpt-ckpt', delta, '--seed', '2', '--id', 'tiny-export']), 'export_llm (HF folder)');
  const ref = JSON.parse(readFileSync(join(out, 'reference', 'reference.json'), 'utf8')) as Reference;

  const b = await openBundle(out);
  t.teardown(() => b.release());

  t.test('manifest: reduced dims, HF RoPE layout, stop ids [EOS, id of the double-hash piece] from the tokenizer', async (t) => {
    const m = b.manifest;
    t.match(m.config, { hidden: 64, layers: 2, heads: 4, kvHeads: 4, headDim: 16, intermediate: 172, contextLength: 256, ropeLayout: 'half', rmsNormEps: 1e-6 });
    t.equal(m.config.vocabSize, ref.tokens.vocabSize, 'vocabulary = the trained SentencePiece model');
    t.same(m.generation.stopTokenIds, [2, ref.tokens.hashHash]);
    t.same(m.files.map((f) => f.path).sort(), ['embeddings.bin', 'llm.onnx', 'tokenizer.bin']);
    t.equal(Buffer.from(b.tokenizer.piece(ref.tokens.hashHash)).toString(), '##');
    t.not(ref.tokens.yesFirst, ref.tokens.noFirst);
    t.equal(b.tokenizer.encode('Yes', { bos: false })[0], ref.tokens.yesFirst);
  });

  t.test('ONNX logits = PyTorch (base + LoRA side branch): prefill and one cached step', async (t) => {
    const pre = await b.decoder.forward(f32(join(out, 'reference', ref.prefill.embeds)), ref.prefill.length, undefined, { logits: 'all' });
    const dPre = maxAbsDiff(pre.logits, f32(join(out, 'reference', ref.prefill.logits)));
    t.equal(pre.cache.length, ref.prefill.length);
    const step = await b.decoder.forward(f32(join(out, 'reference', ref.step.embeds)), 1, pre.cache, { logits: 'all' });
    const dStep = maxAbsDiff(step.logits, f32(join(out, 'reference', ref.step.logits)));
    t.ok(dPre < LOGIT_TOL, `prefill max |Δlogit| ${dPre.toExponential(2)} (logits up to ${ref.logitsAbsMax.toFixed(1)})`);
    t.ok(dStep < LOGIT_TOL, `cached step max |Δlogit| ${dStep.toExponential(2)}`);
    t.equal(step.cache.length, ref.prefill.length + 1);
  });

  t.test('attention_mask padding ∧ causal, and RoPE from position_ids (session fed directly)', async (t) => {
    const { attentionMask, positionOffset } = ref.masked;
    const n = attentionMask.length;
    const empty = b.decoder.emptyCache();
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', f32(join(out, 'reference', ref.masked.embeds)), [1, n, DIMS.hidden]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(attentionMask.map(BigInt)), [1, n]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(positionOffset + i)), [1, n]),
    };
    for (let i = 0; i < DIMS.layers; i++) {
      feeds[`past_key_values.${i}.key`] = empty.keys[i];
      feeds[`past_key_values.${i}.value`] = empty.values[i];
    }
    const res = await b.decoder.session.run(feeds);
    const logits = res.logits.data as Float32Array;
    const d = maxAbsDiff(logits, f32(join(out, 'reference', ref.masked.logits)));
    t.ok(d < LOGIT_TOL, `masked prefill max |Δlogit| ${d.toExponential(2)}`);
    t.ok(maxAbsDiff(logits, f32(join(out, 'reference', ref.prefill.logits))) > 0.1, 'mask and positions change the logits');
  });

  t.test('greedy ids = the PyTorch greedy loop; prompt ids = SentencePiece', async (t) => {
    t.same(b.tokenizer.encode(ref.greedy.promptText), ref.greedy.promptIds);
    t.ok(ref.greedy.minMargin > 100 * LOGIT_TOL, `smallest top-2 margin ${ref.greedy.minMargin.toFixed(4)} ≫ the logit error`);
    const n = ref.greedy.ids.length;
    const cached = await b.generator.generate(ref.greedy.promptIds, { maxNewTokens: n, stopTokenIds: [] });
    t.same(cached.ids, ref.greedy.ids);
    const full = await b.generator.generate(ref.greedy.promptIds, { maxNewTokens: n, stopTokenIds: [], useCache: false });
    t.same(full.ids, ref.greedy.ids, 'without the cache too');
  });

  t.test('LoRA merge: every pair found, W′ = W + B·A, merged forward = side branch', async (t) => {
    const l = ref.lora;
    t.equal(l.matchedKeys, 4 * DIMS.layers * 2);
    t.same(Object.keys(l.prefixes), ['llama_model.base_model.model.model.']);
    t.same(l.otherKeys, ['llama_proj.bias', 'llama_proj.weight']);
    t.ok(l.weightMaxAbsErr < 1e-6, `max |W′ − (W + B·A)| ${l.weightMaxAbsErr.toExponential(2)}`);
    t.ok(l.matvecMaxAbsErr < 1e-5, `max |W′x − (Wx + B·Ax)| ${l.matvecMaxAbsErr.toExponential(2)}`);
    t.ok(l.forwardMaxAbsDiff < LOGIT_TOL, `merged vs side-branch logits ${l.forwardMaxAbsDiff.toExponential(2)}`);
    t.ok(l.loraEffectMaxAbs > 1, `the LoRA moves the logits by ${l.loraEffectMaxAbs.toFixed(2)} (the check is not vacuous)`);
  });

  t.test('a delta that does not fit the model fails clearly', async (t) => {
    const bad = join(dir, 'delta-3-layers.pt');
    t.equal(runExport('lora_merge', ['make-random-delta', bad, '--config', JSON.stringify({ ...DIMS, layers: 3 })]).status, 0);
    const r = runExport('export_llm', [join(dir, 'never'), '--random-config', JSON.stringify(DIMS), '--pandagpt-ckpt', bad]);
    t.not(r.status, 0);
    t.match(r.stderr, /pairs beyond the model/);
    t.match(r.stderr, /24 LoRA keys matched, expected 4 × 2 × 2 = 16/);
  });

  t.test('a tokenizer of another vocabulary is E_LLM_TOKENIZER at load time', async (t) => {
    const other = join(dir, 'other-tok');
    cpSync(out, other, { recursive: true });
    writeFileSync(join(other, 'tokenizer.bin'), tokenizerFile(ref.tokens.vocabSize + 24));
    rehash(other);
    await t.rejects(openBundle(other), { code: ErrorCodes.LLM_TOKENIZER, message: /larger vocabulary than the model/ });
  });

  t.test('the HF-folder path (fp16 shards, index, inv_freq buffers, [PAD] added token) gives the same network', async (t) => {
    const bh = await openBundle(fromHf);
    t.teardown(() => bh.release());
    const V = ref.tokens.vocabSize;
    const H = DIMS.hidden;
    t.equal(bh.manifest.config.vocabSize, V + 1, 'vocabulary 32000 + 1 at full size: the pad row');
    t.equal(bh.manifest.tokenizer.vocabSize, V + 1);
    t.equal(Buffer.from(bh.tokenizer.piece(V)).toString(), '[PAD]');
    t.match(bh.manifest.provenance.source, /HF Llama shards pytorch_model-00001-of-00002\.bin, pytorch_model-00002-of-00002\.bin/);
    t.same(bh.embeddings.table.subarray(0, V * H), b.embeddings.table, 'the first V embedding rows are the same');
    t.same(bh.tokenizer.encode(ref.greedy.promptText), ref.greedy.promptIds);
    // On the random-mode inputs, its first V logits must equal the side-branch reference there.
    const onA = await bh.decoder.forward(f32(join(out, 'reference', ref.prefill.embeds)), ref.prefill.length, undefined, { logits: 'all' });
    const firstV = new Float32Array(ref.prefill.length * V);
    for (let s = 0; s < ref.prefill.length; s++) firstV.set(onA.logits.subarray(s * (V + 1), s * (V + 1) + V), s * V);
    const d = maxAbsDiff(firstV, f32(join(out, 'reference', ref.prefill.logits)));
    t.ok(d < LOGIT_TOL, `HF-folder ONNX vs random-mode side-branch PyTorch, first ${V} logits: ${d.toExponential(2)}`);
    const refB = JSON.parse(readFileSync(join(fromHf, 'reference', 'reference.json'), 'utf8')) as Reference;
    const pre = await bh.decoder.forward(f32(join(fromHf, 'reference', refB.prefill.embeds)), refB.prefill.length, undefined, { logits: 'all' });
    const dOnnx = maxAbsDiff(pre.logits, f32(join(fromHf, 'reference', refB.prefill.logits)));
    t.ok(dOnnx < LOGIT_TOL, `its ONNX vs its own (merged) PyTorch reference ${dOnnx.toExponential(2)}`);
    t.same(refB.greedy.ids, ref.greedy.ids);
  });

  t.test('int4 of the bundle folder: manifests checked against models/schemas/ on the way in and out', async (t) => {
    const q = join(dir, 'int4');
    const stats = JSON.parse(succeeded(runExport('quantize_int4', [out, q]), 'quantize_int4 (bundle)')) as { bundle: { id: string } };
    t.equal(stats.bundle.id, 'tiny-export-int4');
    const bq = await openBundle(q);
    t.teardown(() => bq.release());
    t.match(bq.manifest.provenance.notes, /MatMulNBits/, 'the written manifest loads through every TS check');
    // An output id the schema's pattern refuses stops it before any work, naming the place.
    const badId = join(dir, 'int4-bad-id');
    const r = runExport('quantize_int4', [out, badId, '--id', 'Tiny Export']);
    t.equal(r.status, 65, 'EX_DATAERR, not a traceback');
    t.match(r.stderr, /quantize_int4: --id: does not match its JSON Schema[^]*\/id: 'Tiny Export' does not match/);
    t.notOk(existsSync(badId), 'nothing written');
    // An input manifest with a file role the LLM bundle schema does not have is refused too.
    const damaged = join(dir, 'damaged-role');
    cpSync(out, damaged, { recursive: true });
    const m = JSON.parse(readFileSync(join(damaged, 'manifest.json'), 'utf8')) as { files: { role: string }[] };
    m.files[1].role = 'weights';
    writeFileSync(join(damaged, 'manifest.json'), JSON.stringify(m));
    const r2 = runExport('quantize_int4', [damaged, join(dir, 'never-int4')]);
    t.equal(r2.status, 65);
    t.match(r2.stderr, /damaged-role\/manifest\.json: does not match its JSON Schema[^]*\/files\/1\/role: 'weights' is not one of \['decoder', 'embeddings', 'tokenizer', 'other'\]/);
  });

  t.test('external data (the > 2 GB layout): one llm.onnx.data, listed as "other", loads', async (t) => {
    const ext = join(dir, 'external');
    cpSync(out, ext, { recursive: true });
    succeeded(runExport('llm_onnx', ['split-then-consolidate', join(out, 'llm.onnx'), ext]), 'split-then-consolidate');
    t.ok(statSync(join(ext, 'llm.onnx.data')).size > statSync(join(ext, 'llm.onnx')).size, 'weights moved to the data file');
    rehash(ext, [{ path: 'llm.onnx.data', role: 'other' }]);
    const be = await openBundle(ext);
    t.teardown(() => be.release());
    const pre = await be.decoder.forward(f32(join(out, 'reference', ref.prefill.embeds)), ref.prefill.length, undefined, { logits: 'all' });
    const dExt = maxAbsDiff(pre.logits, f32(join(out, 'reference', ref.prefill.logits)));
    t.ok(dExt < LOGIT_TOL, `prefill max |Δlogit| ${dExt.toExponential(2)}`);
  });
});
