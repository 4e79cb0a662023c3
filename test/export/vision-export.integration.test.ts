/**
 * Round trip of the vision export (anomalygpt_export.export_vision, issue 4): one run of
 * `--random --reduced --self-check` (ImageBind-structured encoder W 64, 8 blocks, taps after
 * 2/4/6/8, E 32, H 64, S 224, P 256), then onnxruntime-node against the PyTorch references
 * it wrote: the encoder, the TS-built unsupervised map graph (buildUnsupervisedMapGraph fed
 * decoder.bin and the prototype table) against PyTorch's SPEC §3 map, the prompt learner,
 * llama_proj, decoder.bin's layout, the prototype table (unit rows, row order, sentences), and
 * the Python self-checks (full-size key names, strict-load errors, Conv3d→Conv2d).
 * Skipped when /usr/bin/python3 cannot import torch + onnx.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PREBUILT_CLASS_NAMES, prototypeSentences } from '../../src/vlm/class-names.js';
import { MAP_OUTPUT, TAPS_INPUT, buildUnsupervisedMapGraph } from '../../src/vlm/map-graphs.js';
import { maxAbsDiff as maxAbs } from '../vlm/llm/fixtures.js';
import { pythonMissing, readF32 as f32, runExport, succeeded } from '../support/python.js';

const skip = pythonMissing(['torch', 'onnx', 'jsonschema']);

interface Tensor { file: string; shape: number[] }
interface Index {
  tensors: Record<string, Tensor>;
  dims: { size: number; grid: number; patches: number; width: number; embedDim: number; hidden: number; tapBlocks0: number[] };
  classes: string[];
  mapClass: string;
  mapClassRow: number;
  sentences: { normal: string[]; abnormal: string[] };
  tokenizer: { vocab: number; sot: number; eot: number; ids: number[]; sentence: string; decoded: string };
  files: { path: string; sha256: string; bytes: number; role: string }[];
  sections: { encoder: { tapBlocks: number[] }; textPrototypes: { classes: string[] } };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON from the Python self-checks
  checks: Record<string, any>;
}

const maxOf = (a: Float32Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

t.test('vision export round trip (PyTorch → ONNX / bundle files → onnxruntime-node)', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'agpt-vision-export-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const t0 = Date.now();
  const args = ['--out', out, '--random', '--reduced', '--seed', '3', '--self-check', '--class', 'Widget_A', '--map-class', 'widget_a'];
  succeeded(runExport('export_vision', args), 'export_vision');
  t.comment(`export_vision --random --reduced --self-check: ${Date.now() - t0} ms`);
  const ref = join(out, 'reference');
  const ix = JSON.parse(readFileSync(join(ref, 'index.json'), 'utf8')) as Index;
  const r = (name: string): Float32Array => f32(join(ref, ix.tensors[name].file));
  const { size: S, patches: P, width: W, embedDim: E, hidden: H } = ix.dims;
  const session = (file: string) => ort.InferenceSession.create(join(out, file), { intraOpNumThreads: 1 });

  t.test('files: sha256 and sizes as listed; decoder.bin / prototype sizes', async (t) => {
    t.same(ix.files.map((f) => f.role), ['encoder', 'decoder', 'text-prototypes', 'prompt-learner', 'llama-proj']);
    for (const f of ix.files) {
      const bytes = readFileSync(join(out, f.path));
      t.equal(bytes.byteLength, f.bytes, `${f.path} size`);
      t.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, `${f.path} sha256`);
    }
    t.equal(readFileSync(join(out, 'decoder.bin')).byteLength, 4 * (4 * E * W + 4 * E));
    t.equal(readFileSync(join(out, 'text-prototypes.bin')).byteLength, 4 * ix.classes.length * 2 * E);
    t.same(ix.sections.encoder.tapBlocks, ix.dims.tapBlocks0.map((b) => b + 1), 'manifest tapBlocks are 1-based');
  });

  t.test('encoder.onnx (Conv2d stem) vs PyTorch ImageBind module (Conv3d stem)', async (t) => {
    const check = async (file: string, what: string) => {
      const s = await session(file);
      const o = await s.run({ pixel: new ort.Tensor('float32', r('pixel'), [1, 3, S, S]) });
      t.same(o.img_emb.dims, [1, E]);
      t.same(o.taps.dims, [4, 1, P, W]);
      const eEmb = maxAbs(o.img_emb.data as Float32Array, r('img_emb'));
      const eTaps = maxAbs(o.taps.data as Float32Array, r('taps'));
      t.comment(`${what}: img_emb max abs err ${eEmb.toExponential(2)}, taps ${eTaps.toExponential(2)} (max |taps| ${maxOf(r('taps')).toFixed(2)})`);
      t.ok(eEmb < 1e-5, `${what} img_emb within 1e-5`);
      t.ok(eTaps < 1e-4 * Math.max(1, maxOf(r('taps'))), `${what} taps within 1e-4 relative to max |taps|`);
      await s.release();
    };
    await check('encoder.onnx', 'encoder.onnx');
    t.same(ix.checks.externalData, ['encoder.onnx', 'encoder.onnx.data'], 'the >2 GB route writes one external-data file');
    await check('reference/external/encoder.onnx', 'external-data encoder');
  });

  t.test('decoder.bin layout: weights [4,E,W] (out,in) then biases [4,E]', async (t) => {
    const dec = f32(join(out, 'decoder.bin'));
    const taps = r('taps');
    const want = r('dec_tokens'); // PyTorch fc_l(tap_l), [4,1,P,E]
    let err = 0;
    for (let l = 0; l < 4; l++) {
      for (let p = 0; p < P; p++) {
        for (let o = 0; o < E; o++) {
          let acc = dec[4 * E * W + l * E + o];
          for (let i = 0; i < W; i++) acc += dec[(l * E + o) * W + i] * taps[(l * P + p) * W + i];
          err = Math.max(err, Math.abs(acc - want[(l * P + p) * E + o]));
        }
      }
    }
    t.comment(`decoder tokens from decoder.bin vs PyTorch: max abs err ${err.toExponential(2)}`);
    t.ok(err < 1e-4, 'decoder.bin reproduces image_decoder.fc.{l}');
  });

  t.test('text prototypes: class order, unit rows, row = direct computation, sentences', async (t) => {
    t.same(ix.classes, [...PREBUILT_CLASS_NAMES, 'widget a'], 'PREBUILT_CLASS_NAMES order, then the canonical --class extra');
    t.same(ix.sections.textPrototypes.classes, ix.classes);
    const table = f32(join(out, 'text-prototypes.bin'));
    let worst = 0;
    for (let row = 0; row < ix.classes.length * 2; row++) {
      let n = 0;
      for (let i = 0; i < E; i++) n += table[row * E + i] ** 2;
      worst = Math.max(worst, Math.abs(Math.sqrt(n) - 1));
    }
    t.ok(worst < 1e-5, `every [normal, abnormal] row unit norm (worst |‖t‖−1| ${worst.toExponential(2)})`);
    t.equal(ix.mapClassRow, ix.classes.indexOf('widget a'));
    const row = table.subarray(ix.mapClassRow * 2 * E, (ix.mapClassRow + 1) * 2 * E);
    t.ok(maxAbs(row, r('prototypes')) < 1e-6, 'table row of "widget a" equals its prototypes computed on their own');
    t.not(maxAbs(table.subarray(0, 2 * E), r('prototypes')), 0, 'and differs from another class');
    t.same(ix.sentences, prototypeSentences('widget a'), 'Python sentence table = class-names.ts prototypeSentences');
    const tk = ix.tokenizer;
    t.equal(tk.ids[0], tk.sot);
    t.equal(tk.ids[tk.ids.length - 1], tk.eot);
    t.same([tk.sot, tk.eot], [tk.vocab - 2, tk.vocab - 1], 'SOT / EOT are the last two ids (49406 / 49407 for the real vocabulary)');
    t.equal(tk.ids[1], 320, '"a</w>" has CLIP\'s id 320 (byte symbols ordered printable-first)');
    t.equal(tk.decoded, 'a photo of a widget a .', 'CLIP-style decode of the BPE ids');
  });

  t.test('TS unsupervised map graph vs PyTorch SPEC §3 map', async (t) => {
    const table = f32(join(out, 'text-prototypes.bin'));
    const dec = f32(join(out, 'decoder.bin'));
    const k = ix.mapClassRow;
    const graph = buildUnsupervisedMapGraph(
      { grid: ix.dims.grid, size: S, width: W },
      { weight: dec.subarray(0, 4 * E * W), bias: dec.subarray(4 * E * W), embedDim: E },
      table.subarray(2 * k * E, (2 * k + 1) * E),
      table.subarray((2 * k + 1) * E, (2 * k + 2) * E),
      100,
    );
    const s = await ort.InferenceSession.create(graph, { intraOpNumThreads: 1 });
    const o = await s.run({ [TAPS_INPUT]: new ort.Tensor('float32', r('taps'), [4, 1, P, W]) });
    const got = o[MAP_OUTPUT].data as Float32Array;
    const want = r('anomaly_map');
    const lo = want.reduce((a, b) => Math.min(a, b), 1);
    const hi = want.reduce((a, b) => Math.max(a, b), 0);
    const err = maxAbs(got, want);
    t.comment(`map: max abs err ${err.toExponential(2)}; PyTorch map range [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
    t.ok(hi - lo > 0.05, 'the reference map is not flat (a meaningful comparison)');
    t.ok(err < 1e-4, 'σ(Up(z_a − z_n)) graph = softmax-after-upsample of the seed, within 1e-4');
    await s.release();
  });

  t.test('prompt-learner.onnx and llama-proj.onnx vs PyTorch', async (t) => {
    const pl = await session('prompt-learner.onnx');
    const po = await pl.run({ anomaly_map: new ort.Tensor('float32', r('anomaly_map'), [1, 1, S, S]) });
    t.same(po.prompts.dims, [1, 18, H]);
    const ePl = maxAbs(po.prompts.data as Float32Array, r('prompts'));
    const lp = await session('llama-proj.onnx');
    const lo = await lp.run({ img_emb: new ort.Tensor('float32', r('img_emb'), [1, E]) });
    t.same(lo.image_token.dims, [1, 1, H]);
    const eLp = maxAbs(lo.image_token.data as Float32Array, r('image_token'));
    t.comment(`prompts max abs err ${ePl.toExponential(2)} (max |ref| ${maxOf(r('prompts')).toFixed(2)}); image_token ${eLp.toExponential(2)}`);
    t.ok(ePl < 1e-4, 'prompts within 1e-4');
    t.ok(eLp < 1e-5, 'image token within 1e-5');
    await pl.release();
    await lp.release();
  });

  t.test('Python self-checks: full-size keys, strict-load errors, Conv3d → Conv2d', async (t) => {
    const c = ix.checks;
    for (const tower of ['fullVisionKeys', 'fullTextKeys'] as const) {
      t.same([c[tower].missing, c[tower].extra, c[tower].shapeMismatch], [[], [], []], `${tower}: expected_*_keys = module state_dict (names and shapes)`);
    }
    t.equal(c.fullVisionKeys.expected, 1 + 1 + 1 + 2 + 32 * 12 + 3, 'vision: stem, cls, pos, pre-LN ×2, 32 blocks × 12, head ×3');
    t.ok(c.fullVisionKeys.inferred.includes('modality_preprocessors.vision.rgbt_stem.proj.1.weight'), 'the stem index is flagged [inferred]');
    t.same(c.fullParamCounts, { visionTower: 632829440, decoder: 5246976, promptLearner: 107416504, llamaProj: 4198400 }, 'SPEC §5 / §8 parameter counts at full size');
    t.match(c.missingKeyError, { type: 'CheckpointKeyError', message: /missing \(1\): modality_trunks\.vision\.blocks\.0\.attn\.in_proj_weight/ });
    t.match(c.unexpectedKeyError.message, /unexpected \(1\): modality_heads\.vision\.2\.bias/);
    t.match(c.headsMissingKeyError.message, /missing \(1\): prompt_learner\.base_prompts/);
    t.match(c.pandaMissingKeyError.message, /missing \(2\): llama_proj\.bias, llama_proj\.weight/);
    t.equal(c.roundTripLoad, 0, 'strict load of its own state dict reproduces the taps exactly');
    const cc = c.conv3dToConv2d;
    t.comment(`Conv3d→Conv2d: reduced taps ${cc.reducedTapsMaxAbs.toExponential(2)} (max ${cc.reducedTapsMaxRef.toFixed(2)}), img_emb ${cc.reducedImgEmbMaxAbs.toExponential(2)}; full-width stem ${cc.fullStemMaxAbs.toExponential(2)} (max ${cc.fullStemMaxRef.toFixed(2)})`);
    t.ok(cc.reducedTapsMaxAbs < 1e-5 * cc.reducedTapsMaxRef, 'Conv2d(sum over time) stem = PadIm2Video + Conv3d, whole tower');
    t.ok(cc.reducedImgEmbMaxAbs < 1e-5);
    t.ok(cc.fullStemMaxAbs < 1e-5 * cc.fullStemMaxRef, 'and for the full 3→1280, (2,14,14) stem');
  });
});
