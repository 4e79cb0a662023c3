/**
 * CPU figures for an LLM bundle: prefill time of a 100-token prompt, and greedy decoding speed
 * with the KV cache vs recomputing the whole prefix every step. Without a bundle folder it
 * converts ../shared/data/llm/stories260K into a temp folder first.
 *
 *   node dist-tools/tools/bench/bench-llm.js [bundleDir] [--threads N] [--tokens N] [--runs N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLlmBundle, type LlmBundle } from '../../src/vlm/llm/llm-bundle.js';
import { createLogger } from '../../src/log.js';
import { convertLlama2c } from '../models/llm/convert-llama2c.js';

export interface LlmBenchResult {
  readonly bundle: string;
  readonly threads: number;
  readonly prefill100Ms: number;
  readonly cached: { tokens: number; decodeMs: number; tokensPerS: number };
  readonly recompute: { tokens: number; decodeMs: number; tokensPerS: number };
  readonly sameIds: boolean;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchLlm(b: LlmBundle, opts: { tokens: number; runs: number; threads: number }): Promise<LlmBenchResult> {
  const g = b.generator;
  // A natural 100-token prompt: the model's own greedy story (no stop tokens, so it is long enough).
  const story = await g.generate([b.tokenizer.bosId], { maxNewTokens: 99, stopTokenIds: [] });
  const prompt = [b.tokenizer.bosId, ...story.ids];
  const embeds = g.embed(prompt);
  await b.decoder.forward(embeds, prompt.length); // warm-up
  const prefill: number[] = [];
  for (let i = 0; i < opts.runs * 5; i++) {
    const t0 = performance.now();
    await b.decoder.forward(embeds, prompt.length);
    prefill.push(performance.now() - t0);
  }
  const seed = b.tokenizer.encode('Once upon a time');
  const run = async (useCache: boolean): Promise<{ ms: number; ids: number[] }> => {
    const ms: number[] = [];
    let ids: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const r = await g.generate(seed, { maxNewTokens: opts.tokens, stopTokenIds: [], useCache });
      ms.push(r.decodeMs);
      ids = r.ids;
    }
    return { ms: median(ms), ids };
  };
  const cached = await run(true);
  const recompute = await run(false);
  // decodeMs covers tokens−1 decoder calls (the first token comes from the prefill logits).
  const rate = (ms: number): number => ((opts.tokens - 1) / ms) * 1000;
  return {
    bundle: b.manifest.id,
    threads: opts.threads,
    prefill100Ms: median(prefill),
    cached: { tokens: opts.tokens, decodeMs: cached.ms, tokensPerS: rate(cached.ms) },
    recompute: { tokens: opts.tokens, decodeMs: recompute.ms, tokensPerS: rate(recompute.ms) },
    sameIds: cached.ids.join() === recompute.ids.join(),
  };
}

async function main(argv: string[]): Promise<void> {
  let dir: string | undefined;
  const opts = { tokens: 256, runs: 3, threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') opts.threads = Number(argv[++i]);
    else if (a === '--tokens') opts.tokens = Number(argv[++i]);
    else if (a === '--runs') opts.runs = Number(argv[++i]);
    else dir = a;
  }
  let tmp: string | undefined;
  if (!dir) {
    const data = resolve('../shared/data/llm');
    tmp = await mkdtemp(join(tmpdir(), 'llm-bench-'));
    await convertLlama2c(join(data, 'stories260K.bin'), join(data, 'tok512.bin'), tmp, { id: 'stories260k' });
    dir = tmp;
  }
  const b = await loadLlmBundle(dir, { logger: createLogger({ level: 'silent' }), executionProviders: ['cpu'], intraOpThreads: opts.threads });
  try {
    console.log(JSON.stringify(await benchLlm(b, opts), null, 1));
  } finally {
    await b.release();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
