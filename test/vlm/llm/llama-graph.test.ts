/**
 * The converted decoder graph on random tiny weights (GQA 4:2, unshared classifier; no shared
 * data needed): agreement with the run.c port, both RoPE layouts giving the same logits, the
 * KV cache giving what a full recomputation gives, and the attention mask hiding padding.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertLlama2c } from '../../../tools/models/llm/convert-llama2c.js';
import { permuteRowsToHalf } from '../../../tools/models/llm/rope-layout.js';
import type { LlmBundle } from '../../../src/vlm/llm/llm-bundle.js';
import { pastKeyName, pastValueName } from '../../../src/vlm/llm/llm-interface.js';
import { ReferenceLlama } from './reference-forward.js';
import { TINY, maxAbsDiff, openBundle, randomCheckpoint, randomWeights, tokenizerFile } from './fixtures.js';

const dir = t.testdir({});
const ckpt = join(dir, 'random.bin');
const tok = join(dir, 'tok.bin');
let interleaved: LlmBundle;
let half: LlmBundle;
const ids = [1, 259, 17, 200, 5, 33, 299, 260, 41, 120, 7, 88];

t.before(async () => {
  await writeFile(ckpt, randomCheckpoint(TINY, 7));
  await writeFile(tok, tokenizerFile(TINY.vocab));
  await convertLlama2c(ckpt, tok, join(dir, 'interleaved'), { id: 'tiny-interleaved' });
  await convertLlama2c(ckpt, tok, join(dir, 'half'), { id: 'tiny-half', ropeLayout: 'half' });
  interleaved = await openBundle(join(dir, 'interleaved'));
  half = await openBundle(join(dir, 'half'));
});
t.teardown(async () => {
  await interleaved?.release();
  await half?.release();
});

t.test('row permutation to the HF layout: per head, evens first then odds', async (t) => {
  // 1 layer, 2 heads of dim 4, in-dim 1: rows 0..7 → per head [0, 2, 1, 3].
  const w = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  t.same([...permuteRowsToHalf(w, 1, 2, 4, 1)], [0, 2, 1, 3, 4, 6, 5, 7]);
});

t.test('ONNX logits agree with the run.c port at every position (1e-4)', async (t) => {
  const ref = new ReferenceLlama(randomWeights(TINY, 7));
  const out = await interleaved.decoder.forward(interleaved.generator.embed(ids), ids.length, undefined, { logits: 'all' });
  let worst = 0;
  ids.forEach((id, pos) => {
    const expected = ref.forward(id, pos);
    worst = Math.max(worst, maxAbsDiff(out.logits.subarray(pos * TINY.vocab, (pos + 1) * TINY.vocab), expected));
  });
  t.ok(worst < 1e-4, `max |Δlogit| ${worst.toExponential(2)} over ${ids.length} positions`);
  t.ok(maxAbsDiff(out.logits.subarray(0, TINY.vocab), out.logits.subarray(TINY.vocab, 2 * TINY.vocab)) > 1e-3, 'positions differ (not a constant output)');
});

t.test('interleaved and half RoPE layouts give the same logits; their caches differ', async (t) => {
  const a = await interleaved.decoder.forward(interleaved.generator.embed(ids), ids.length, undefined, { logits: 'all' });
  const b = await half.decoder.forward(half.generator.embed(ids), ids.length, undefined, { logits: 'all' });
  const d = maxAbsDiff(a.logits, b.logits);
  t.ok(d < 1e-5, `max |Δlogit| ${d.toExponential(2)}`);
  const ka = a.cache.keys[0].data as Float32Array;
  const kb = b.cache.keys[0].data as Float32Array;
  t.ok(maxAbsDiff(ka, kb) > 1e-3, 'cached keys are stored in different channel orders');
  t.equal(half.manifest.config.ropeLayout, 'half');
});

t.test('KV cache: prefill(N−1) + one step = full prefill(N); chunked prefill too (1e-4)', async (t) => {
  const { decoder, generator } = interleaved;
  const full = await decoder.forward(generator.embed(ids), ids.length);
  const head = await decoder.forward(generator.embed(ids.slice(0, -1)), ids.length - 1);
  t.equal(head.cache.length, ids.length - 1);
  const step = await decoder.forward(generator.embed(ids.slice(-1)), 1, head.cache);
  t.equal(step.cache.length, ids.length);
  const d1 = maxAbsDiff(full.logits, step.logits);
  t.ok(d1 < 1e-4, `cached step vs full: ${d1.toExponential(2)}`);
  const part = await decoder.forward(generator.embed(ids.slice(0, 5)), 5);
  const rest = await decoder.forward(generator.embed(ids.slice(5)), ids.length - 5, part.cache);
  const d2 = maxAbsDiff(full.logits, rest.logits);
  t.ok(d2 < 1e-4, `chunked prefill vs full: ${d2.toExponential(2)}`);
  t.ok(maxAbsDiff(full.cache.values[1].data as Float32Array, rest.cache.values[1].data as Float32Array) < 1e-4, 'same cache');
});

t.test('generation with the cache = generation recomputing the prefix', async (t) => {
  const g = interleaved.generator;
  const a = await g.generate(ids.slice(0, 4), { maxNewTokens: 20, stopTokenIds: [] });
  const b = await g.generate(ids.slice(0, 4), { maxNewTokens: 20, stopTokenIds: [], useCache: false });
  t.equal(a.ids.length, 20);
  t.same(a.ids, b.ids);
  t.equal(a.cache?.length, 4 + 19, 'cache holds the prompt and every fed token');
});

t.test('attention_mask: left padding is invisible (same logits for the real tokens)', async (t) => {
  const { session, config } = interleaved.decoder;
  const real = ids.slice(0, 6);
  const run = async (tokens: number[], mask: number[], pos: number[]): Promise<Float32Array> => {
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', interleaved.generator.embed(tokens), [1, tokens.length, config.hidden]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.map(BigInt)), [1, mask.length]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(pos.map(BigInt)), [1, pos.length]),
    };
    for (let i = 0; i < config.layers; i++) {
      for (const name of [pastKeyName(i), pastValueName(i)]) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, config.kvHeads, 0, config.headDim]);
    }
    return (await session.run(feeds)).logits.data as Float32Array;
  };
  const plain = await run(real, real.map(() => 1), real.map((_, i) => i));
  const padded = await run([0, 0, 0, ...real], [0, 0, 0, ...real.map(() => 1)], [0, 0, 0, ...real.map((_, i) => i)]);
  const d = maxAbsDiff(plain, padded.subarray(3 * config.vocabSize));
  t.ok(d < 1e-5, `padded vs unpadded: ${d.toExponential(2)}`);
  const unmasked = await run([0, 0, 0, ...real], [1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, ...real.map((_, i) => i)]);
  t.ok(maxAbsDiff(plain, unmasked.subarray(3 * config.vocabSize)) > 1e-3, 'without the mask the padding changes the logits');
});
