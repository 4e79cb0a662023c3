/**
 * The tiny random-weights AnomalyGPT bundle through the whole path on real images (a simulated
 * part from the procedural camera, and the MVTec bottle when ../shared/data has it):
 * shapes at every stage, both maps against straightforward JS references of SPEC §3 / §4, the
 * prompt learner's base prompts first, the SPEC §6 input layout, the Yes/No verdict, and a
 * two-turn dialogue reusing cached prefixes against recomputing from scratch.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { buildTinyBundle, TINY_DIMS } from '../../tools/fixtures/anomalygpt/build-tiny-bundle.js';
import { AnomalyGpt, type Analysis, type ImageInput } from '../../src/vlm/anomalygpt.js';
import { assemblePrefix, prefixLength, questionTokens, segmentLengths } from '../../src/vlm/llm-input.js';
import { ASSISTANT_TAIL, HUMAN_IMG_OPEN, IMG_CLOSE } from '../../src/vlm/prompt-format.js';
import { readImageFile } from '../../src/capture/image-io.js';
import { ProceduralPart } from '../../src/capture/sim/procedural-part.js';
import { createLogger } from '../../src/log.js';
import { createRng } from '../../src/util/prng.js';

const dir = t.testdir({});
const bundleDir = join(dir, 'tiny');
const BOTTLE = resolve('../shared/data/mvtec-bottle/test/broken_large/000.png');
let model: AnomalyGpt;
let part: ImageInput;
let analysis: Analysis;

function simImage(n: number): ImageInput {
  const mat = new ProceduralPart(11, 320, 240).render(createRng(n)).image;
  return { data: new Uint8Array(mat.getData()), width: mat.cols, height: mat.rows, channels: 3 };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Bilinear align_corners=True upsampling of a g×g grid to S×S (SPEC §3 step 4), in float64. */
function upsample(src: Float64Array, g: number, S: number): Float64Array {
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) {
    const sy = (y * (g - 1)) / (S - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, g - 1);
    const wy = sy - y0;
    for (let x = 0; x < S; x++) {
      const sx = (x * (g - 1)) / (S - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, g - 1);
      const wx = sx - x0;
      const top = src[y0 * g + x0] * (1 - wx) + src[y0 * g + x1] * wx;
      const bottom = src[y1 * g + x0] * (1 - wx) + src[y1 * g + x1] * wx;
      out[y * S + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

t.before(async () => {
  await buildTinyBundle(bundleDir, { seed: 1 });
  model = await AnomalyGpt.load(bundleDir, { logger: createLogger({ level: 'silent' }), partName: 'bottle', intraOpThreads: 1 });
  part = simImage(1);
  analysis = await model.analyse(part);
});
t.teardown(() => model?.release());

t.test('shapes at every stage of the vision path', async (t) => {
  const { size, patch, width, embedDim, hidden } = TINY_DIMS;
  const P = (size / patch) ** 2;
  t.equal(analysis.encoded.imgEmb.length, embedDim);
  t.ok(Math.abs(Math.hypot(...analysis.encoded.imgEmb) - 1) < 1e-5, 'img_emb is unit norm');
  t.equal(analysis.encoded.taps.length, 4 * P * width, 'taps [4,1,256,W]');
  t.equal(analysis.map.length, size * size);
  t.equal(analysis.imageToken.length, hidden);
  t.equal(analysis.prompts.length, 18 * hidden);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of analysis.map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  t.ok(lo >= 0 && hi <= 1, `unsupervised map in [0,1] (${lo.toFixed(4)}…${hi.toFixed(4)})`);
  t.ok(hi - lo > 1e-3, 'the map is not constant');
  t.equal(model.part.name, 'bottle');
});

t.test('unsupervised map graph = JS reference of SPEC §3 (softmax after upsampling) within 1e-5', async (t) => {
  const { size: S, patch, width: W, embedDim: E } = TINY_DIMS;
  const g = S / patch;
  const P = g * g;
  const dec = new Float32Array((await readFile(join(bundleDir, 'decoder.bin'))).buffer.slice(0));
  const protos = new Float32Array((await readFile(join(bundleDir, 'text-prototypes.bin'))).buffer.slice(0));
  const row = model.part.index;
  const tn = protos.subarray(row * 2 * E, row * 2 * E + E);
  const ta = protos.subarray(row * 2 * E + E, (row + 1) * 2 * E);
  const taps = analysis.encoded.taps;
  const mean = new Float64Array(S * S);
  for (let l = 0; l < 4; l++) {
    const zn = new Float64Array(P);
    const za = new Float64Array(P);
    for (let p = 0; p < P; p++) {
      const f = new Float64Array(E);
      for (let o = 0; o < E; o++) {
        let s = dec[4 * E * W + l * E + o];
        for (let i = 0; i < W; i++) s += dec[(l * E + o) * W + i] * taps[(l * P + p) * W + i];
        f[o] = s;
      }
      const n = Math.hypot(...f);
      let dn = 0;
      let da = 0;
      for (let o = 0; o < E; o++) {
        dn += (f[o] / n) * tn[o];
        da += (f[o] / n) * ta[o];
      }
      zn[p] = 100 * dn;
      za[p] = 100 * da;
    }
    // Two channels upsampled separately, then the 2-way softmax, keep "abnormal".
    const un = upsample(zn, g, S);
    const ua = upsample(za, g, S);
    for (let i = 0; i < S * S; i++) mean[i] += Math.exp(ua[i]) / (Math.exp(un[i]) + Math.exp(ua[i])) / 4;
  }
  const d = maxAbsDiff(analysis.map, Float32Array.from(mean));
  t.ok(d < 1e-5, `max |Δ| ${d.toExponential(2)}`);
});

t.test('few-shot map = JS reference of SPEC §4 within 1e-5; it replaces the text map', async (t) => {
  const refs = [simImage(2), simImage(3)];
  const mapper = await model.fewShot(refs);
  t.teardown(() => mapper.release());
  const fs = await model.analyse(part, mapper);
  t.equal(fs.mode, 'few-shot');
  const { size: S, patch, width: W } = TINY_DIMS;
  const g = S / patch;
  const P = g * g;
  const bank = await Promise.all(refs.map(async (r) => (await model.vision.encode(model.pixels(r))).taps));
  const q = fs.encoded.taps;
  const sim = new Float64Array(P);
  const norm = (a: Float32Array, off: number): number => {
    let s = 0;
    for (let i = 0; i < W; i++) s += a[off + i] ** 2;
    return Math.sqrt(s);
  };
  for (let l = 0; l < 4; l++) {
    for (let p = 0; p < P; p++) {
      const qo = (l * P + p) * W;
      let best = -Infinity;
      for (const b of bank) {
        for (let j = 0; j < P; j++) {
          const bo = (l * P + j) * W;
          let dot = 0;
          for (let i = 0; i < W; i++) dot += q[qo + i] * b[bo + i];
          best = Math.max(best, dot / Math.max(norm(q, qo) * norm(b, bo), 1e-8));
        }
      }
      sim[p] += best / 4;
    }
  }
  const expected = Float32Array.from(upsample(sim, g, S), (v) => 1 - v);
  const d = maxAbsDiff(fs.map, expected);
  t.ok(d < 1e-5, `max |Δ| ${d.toExponential(2)}`);
  t.ok(maxAbsDiff(fs.map, analysis.map) > 1e-2, 'differs from the unsupervised map');
  const self = await model.analyse(refs[0], mapper);
  t.ok(Math.max(...self.map) < 1e-5, 'a reference image scores ~0 against a bank that contains it');
});

t.test('prompt learner: [1,18,H], the 9 learned base prompts first, then 9 map-derived', async (t) => {
  const H = TINY_DIMS.hidden;
  const bytes = await readFile(join(bundleDir, 'prompt-learner.onnx'));
  const proto = onnxProto.onnx.ModelProto.decode(bytes);
  const init = proto.graph?.initializer?.find((i) => i.name === 'base_prompts');
  t.ok(init?.rawData, 'base_prompts initializer present');
  const raw = init!.rawData!;
  const base = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  t.same([...init!.dims!].map(Number), [1, 9, H]);
  t.equal(maxAbsDiff(analysis.prompts.subarray(0, 9 * H), base), 0, 'rows 0–8 are base_prompts');
  const other = await model.vision.prompts(new Float32Array(TINY_DIMS.size ** 2).fill(0.9));
  t.equal(maxAbsDiff(other.subarray(0, 9 * H), base), 0, 'independent of the map');
  t.ok(maxAbsDiff(other.subarray(9 * H), analysis.prompts.subarray(9 * H)) > 1e-4, 'rows 9–17 depend on the map');
});

t.test('LLM input: SPEC §6 segments, lengths and order', async (t) => {
  const tok = model.llm.tokenizer;
  const H = TINY_DIMS.hidden;
  const q = questionTokens(tok, model.question);
  const seg = segmentLengths(model.prefixTokens, 18, q);
  t.same(model.prefixTokens.human, tok.encode(HUMAN_IMG_OPEN, { bos: false }), 'segment 2 tokenized alone, no BOS');
  t.same(model.prefixTokens.imgClose, tok.encode(IMG_CLOSE, { bos: false }), 'segment 4 (with its trailing space)');
  t.same(q, tok.encode(model.question + ASSISTANT_TAIL, { bos: false }), 'segment 6');
  t.equal(tok.decode(q), ` ${model.question}${ASSISTANT_TAIL}`, 'segment 6 decodes back (dummy-prefix space)');
  t.equal(q[0] === tok.bosId || model.prefixTokens.human[0] === tok.bosId, false, 'no BOS inside segments');
  const prefix = assemblePrefix(model.llm.embeddings, model.prefixTokens, analysis.imageToken, analysis.prompts);
  t.equal(prefix.length, 1 + seg.human + 1 + seg.imgClose + 18);
  t.equal(prefix.length, prefixLength(model.prefixTokens, 18));
  const rows = (r: number, n = 1) => prefix.embeds.subarray(r * H, (r + n) * H);
  t.equal(maxAbsDiff(rows(0), model.llm.embeddings.row(tok.bosId)), 0, 'row 0: BOS');
  t.equal(maxAbsDiff(rows(1, seg.human), model.llm.embeddings.lookup(model.prefixTokens.human)), 0, 'rows 1…: "### Human: <Img>"');
  t.equal(maxAbsDiff(rows(1 + seg.human), analysis.imageToken), 0, 'then the image token');
  t.equal(maxAbsDiff(rows(2 + seg.human, seg.imgClose), model.llm.embeddings.lookup(model.prefixTokens.imgClose)), 0, 'then "</Img> "');
  t.equal(maxAbsDiff(rows(2 + seg.human + seg.imgClose, 18), analysis.prompts), 0, 'then the 18 prompts');
  // The verdict's prefill is exactly prefix + segment 6: same logits as feeding that by hand.
  const all = new Float32Array((prefix.length + q.length) * H);
  all.set(prefix.embeds);
  model.llm.embeddings.lookup(q, all, prefix.length);
  const manual = await model.llm.decoder.forward(all, prefix.length + q.length);
  const v = await model.conversation(analysis).verdict(model.question);
  t.equal(v.fedPositions, prefix.length + q.length, `one prefill of ${v.fedPositions} positions`);
  const expected = 1 / (1 + Math.exp(manual.logits[model.verdictTokens.no] - manual.logits[model.verdictTokens.yes]));
  t.ok(Math.abs(v.pYes - expected) < 1e-6, `P(yes) ${v.pYes} from the assembled sequence`);
});

t.test('Yes/No verdict: a probability, deterministic, image-dependent', async (t) => {
  const a = await model.conversation(analysis).verdict(model.question);
  const b = await model.conversation(await model.analyse(part)).verdict(model.question);
  t.ok(a.pYes > 0 && a.pYes < 1, `P(yes) = ${a.pYes}`);
  t.equal(a.pYes, b.pYes, 'same image → same P(yes), bit for bit');
  t.equal(a.yesLogit, b.yesLogit);
  const other = await model.conversation(await model.analyse(simImage(5))).verdict(model.question);
  t.not(other.pYes, a.pYes, 'another image gives another P(yes)');
  t.not(model.verdictTokens.yes, model.verdictTokens.no);
  t.equal(model.llm.tokenizer.decode([model.verdictTokens.yes]), ' Yes', 'the "▁Yes"-like piece');
});

t.test('dialogue: answers on request; turn 2 reuses cached prefixes and equals recomputation (1e-4)', async (t) => {
  const conv = model.conversation(analysis, { maxAnswerTokens: 12 });
  await conv.verdict(model.question);
  const streamed: string[] = [];
  const a1 = await conv.ask(model.question, { onToken: (e) => streamed.push(e.text) });
  t.equal(a1.prefill.fed, 1, 'turn 1 after the verdict feeds only its last question token');
  t.equal(streamed.join(''), a1.text, 'streamed text = answer text');
  t.ok(a1.ids.length > 0 && a1.ids.length <= 12);
  t.equal(conv.history.length, 1);
  t.notMatch(a1.answer, /###/);
  const q2 = 'Where is it?';
  const cached = await conv.nextTokenLogits(q2);
  const scratch = await model.conversation(analysis, { history: conv.history }).nextTokenLogits(q2, { reuse: false });
  t.ok(cached.reused > model.prefixTokens.human.length + 20, `reused ${cached.reused} positions, fed ${cached.fed}`);
  t.equal(scratch.reused, 0);
  t.equal(cached.ids.length, scratch.ids.length, 'same segment 6');
  t.equal(cached.reused + cached.fed, scratch.fed);
  const d = maxAbsDiff(cached.logits, scratch.logits);
  t.ok(d < 1e-4, `max |Δlogit| ${d.toExponential(2)}`);
  // The history string is the seed's format.
  t.equal(model.llm.tokenizer.decode(scratch.ids), ` ${model.question}\n### Assistant: ${a1.answer}\n### Human: ${q2}${ASSISTANT_TAIL}`);
  const a2 = await conv.ask(q2);
  t.ok(a2.prefill.reused > cached.reused - 1, `turn 2 answer reused ${a2.prefill.reused}`);
  t.equal(conv.history.length, 2);
});

t.test('dialogue history is bounded by tokens, not only turns: the oldest turns go first', async (t) => {
  const question = 'Is there any anomaly in the image? Please describe it in a few words.';
  const alone = (await model.conversation(analysis).nextTokenLogits(question)).ids.length;
  const bound = alone * 3;
  const conv = model.conversation(analysis, { maxAnswerTokens: 8, maxTurns: 50, maxHistoryTokens: bound });
  const lengths: number[] = [];
  for (let i = 0; i < 6; i++) lengths.push((await conv.ask(question)).prefill.ids.length);
  t.comment(`question alone ${alone} tokens, bound ${bound}; segment 6 per turn: ${lengths.join(', ')}`);
  t.ok(lengths.every((n) => n <= bound), 'every prompt within the token bound');
  t.ok(lengths.some((n) => n > alone), 'history was sent while it fit');
  t.ok(conv.history.length < 6 && conv.history.length >= 1, `${conv.history.length} of 6 turns kept (maxTurns 50): the oldest were dropped`);
});

t.test('the MVTec bottle image runs the full path', { skip: existsSync(BOTTLE) ? false : `${BOTTLE} absent (shared data not mounted)` }, async (t) => {
  const mat = await readImageFile(BOTTLE);
  const a = await model.analyse({ data: new Uint8Array(mat.getData()), width: mat.cols, height: mat.rows, channels: mat.channels as 1 | 3 });
  t.equal(a.map.length, 224 * 224);
  const v = await model.conversation(a).verdict(model.question);
  t.ok(v.pYes > 0 && v.pYes < 1, `bottle P(yes) ${v.pYes.toFixed(4)} (random weights: meaningless value)`);
});
