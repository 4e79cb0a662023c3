/**
 * The first correctness anchor of issue 4: Karpathy's stories260K (real trained weights,
 * ../shared/data/llm) converted by the project's script to the ONNX LLM interface reproduces
 * the recorded greedy continuation token for token — prompt encoding, prefill, KV-cached
 * steps, RoPE, RMSNorm, GQA and decoding all have to be right for that.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertLlama2c } from '../../../tools/models/llm/convert-llama2c.js';
import { ErrorCodes } from '../../../src/errors.js';
import { readLlama2cCheckpoint } from '../../../src/vlm/llm/checkpoint.js';
import type { LlmBundle } from '../../../src/vlm/llm/llm-bundle.js';
import { ReferenceLlama } from './reference-forward.js';
import { GOLDEN, STORIES_CKPT, STORIES_TOK, maxAbsDiff, openBundle, sharedLlmMissing, type Golden } from './fixtures.js';

const missing = sharedLlmMissing();
if (missing) {
  t.plan(0, missing);
} else {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;
  const dir = t.testdir({});
  let bundle: LlmBundle;
  t.before(async () => {
    await convertLlama2c(STORIES_CKPT, STORIES_TOK, dir, { id: 'stories260k', license: 'MIT (karpathy/llama2.c tinyllamas)' });
    bundle = await openBundle(dir);
  });
  t.teardown(() => bundle?.release());

  t.test('bundle: stories260K dimensions, shared classifier, llama2.c RoPE layout', async (t) => {
    const c = bundle.manifest.config;
    t.match(c, { hidden: 64, intermediate: 172, layers: 5, heads: 8, kvHeads: 4, headDim: 8, vocabSize: 512, contextLength: 512, rmsNormEps: 1e-5, ropeLayout: 'interleaved' });
    t.same(bundle.manifest.generation.stopTokenIds, [1, 2]);
    t.equal(bundle.embeddings.table.length, 512 * 64);
  });

  t.test('golden: greedy continuation of "Once upon a time" token for token', async (t) => {
    const { tokenizer, generator } = bundle;
    const prompt = tokenizer.encode(golden.prompt);
    t.same(prompt, golden.prompt_ids, 'prompt ids');
    const streamed: string[] = [];
    const res = await generator.generate(prompt, { maxNewTokens: golden.n_generated, onToken: (e) => void streamed.push(e.text) });
    t.same(res.ids, golden.generated_ids, `${golden.n_generated} generated ids`);
    t.equal(res.stopReason, 'max-tokens');
    t.equal(res.text, golden.generated_text);
    t.equal(streamed.join(''), golden.generated_text, 'streamed pieces join to the text');
    t.equal(tokenizer.decode([...prompt, ...res.ids]), golden.full_text, 'full text as run.c prints it');
  });

  t.test('golden without the KV cache (full recomputation each step) gives the same ids', async (t) => {
    const res = await bundle.generator.generate(golden.prompt_ids, { maxNewTokens: 24, useCache: false });
    t.same(res.ids, golden.generated_ids.slice(0, 24));
  });

  t.test('KV cache: last-position logits of prefill(N) = prefill(N−1) + one cached step (1e-4)', async (t) => {
    const { decoder, generator } = bundle;
    const seq = [...golden.prompt_ids, ...golden.generated_ids.slice(0, 30)];
    const full = await decoder.forward(generator.embed(seq), seq.length);
    const head = await decoder.forward(generator.embed(seq.slice(0, -1)), seq.length - 1);
    const step = await decoder.forward(generator.embed(seq.slice(-1)), 1, head.cache);
    const d = maxAbsDiff(full.logits, step.logits);
    t.ok(d < 1e-4, `max |Δlogit| ${d.toExponential(2)} at N = ${seq.length}`);
  });

  t.test('ONNX logits agree with the TypeScript port of run.c forward (1e-4)', async (t) => {
    const ref = new ReferenceLlama(await readLlama2cCheckpoint(STORIES_CKPT));
    const seq = [...golden.prompt_ids, ...golden.generated_ids.slice(0, 11)];
    const out = await bundle.decoder.forward(bundle.generator.embed(seq), seq.length, undefined, { logits: 'all' });
    let worst = 0;
    for (let pos = 0; pos < seq.length; pos++) {
      const r = ref.forward(seq[pos], pos);
      worst = Math.max(worst, maxAbsDiff(out.logits.subarray(pos * 512, (pos + 1) * 512), r));
    }
    t.ok(worst < 1e-4, `max |Δlogit| ${worst.toExponential(2)} over ${seq.length} positions`);
  });

  t.test('HF (half) RoPE layout conversion: same logits and same greedy ids', async (t) => {
    const hdir = join(dir, 'half');
    await convertLlama2c(STORIES_CKPT, STORIES_TOK, hdir, { id: 'stories260k-half', ropeLayout: 'half' });
    const half = await openBundle(hdir);
    t.teardown(() => half.release());
    const seq = [...golden.prompt_ids, ...golden.generated_ids.slice(0, 20)];
    const a = await bundle.decoder.forward(bundle.generator.embed(seq), seq.length, undefined, { logits: 'all' });
    const b = await half.decoder.forward(half.generator.embed(seq), seq.length, undefined, { logits: 'all' });
    const d = maxAbsDiff(a.logits, b.logits);
    t.ok(d < 1e-4, `max |Δlogit| ${d.toExponential(2)}`);
    const res = await half.generator.generate(golden.prompt_ids, { maxNewTokens: 16 });
    t.same(res.ids, golden.generated_ids.slice(0, 16));
  });

  t.test('next-token logits after one prefill (the verdict path)', async (t) => {
    const { logits, cache } = await bundle.generator.nextTokenLogits(bundle.generator.embed(golden.prompt_ids), golden.prompt_ids.length);
    t.equal(logits.length, 512);
    t.equal(cache.length, golden.prompt_ids.length);
    const first = golden.generated_ids[0];
    t.ok(logits.every((v) => v <= logits[first]), `token ${first} has the highest logit`);
  });

  t.test('context length: a prompt over 512 positions is E_LLM_CONTEXT; generation stops at the end', async (t) => {
    const { generator } = bundle;
    const long = [1, ...Array.from({ length: 512 }, (_, i) => 259 + (i % 200))];
    await t.rejects(generator.generate(long, { maxNewTokens: 4 }), { code: ErrorCodes.LLM_CONTEXT });
    const res = await generator.generate(long.slice(0, 510), { maxNewTokens: 10, stopTokenIds: [] });
    t.equal(res.stopReason, 'context');
    t.equal(res.ids.length, 3, 'positions 510 and 511 fed, a third token chosen from the last logits');
  });

  t.test('top-p sampling is reproducible with a seed and stops on stop tokens', async (t) => {
    const g = bundle.generator;
    const sampling = { kind: 'top-p', topP: 0.9, temperature: 1, seed: 42 } as const;
    const a = await g.generate(golden.prompt_ids, { maxNewTokens: 40, sampling });
    const b = await g.generate(golden.prompt_ids, { maxNewTokens: 40, sampling });
    t.same(a.ids, b.ids, 'same seed, same tokens');
    const c = await g.generate(golden.prompt_ids, { maxNewTokens: 40, sampling: { ...sampling, seed: 43 } });
    t.not(c.ids.join(','), a.ids.join(','), 'another seed, another story');
    const tight = await g.generate(golden.prompt_ids, { maxNewTokens: 12, sampling: { ...sampling, topP: 1e-6 } });
    t.same(tight.ids, golden.generated_ids.slice(0, 12), 'top-p → 0 is greedy');
    const stopped = await g.generate(golden.prompt_ids, { maxNewTokens: 40, stopTokenIds: [golden.generated_ids[3]] });
    t.equal(stopped.stopReason, 'stop-token');
    t.same(stopped.ids, golden.generated_ids.slice(0, 3));
    const cb = await g.generate(golden.prompt_ids, { maxNewTokens: 40, onToken: (e) => e.index < 4 });
    t.equal(cb.stopReason, 'callback');
    t.equal(cb.ids.length, 5);
  });
}
