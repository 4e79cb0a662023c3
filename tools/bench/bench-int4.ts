/**
 * fp32 vs int4 (MatMulNBits, anomalygpt_export.quantize_int4) on a random Llama big enough that
 * the weights dominate, built with the TS graph builder (tools/models/llm/llama-graph.ts) and run on
 * the CPU execution provider in one process: file sizes, prefill time of ~90 positions, decode
 * tokens/s with the KV cache, and how close the int4 logits stay to fp32's. A benchmark, not a test:
 * it prints figures and asserts nothing. Needs /usr/bin/python3 with numpy + onnx.
 *
 *   node dist-tools/tools/bench/bench-int4.js [--hidden 1024] [--layers 8] [--ffn 2816] [--vocab 8000]
 *        [--heads 16] [--prefill 90] [--tokens 32] [--runs 3] [--threads 1] [--no-acc4] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { LlamaWeights } from '../../src/vlm/llm/checkpoint.js';
import type { LlmConfig } from '../../src/vlm/llm/llm-interface.js';
import { LlmDecoder } from '../../src/vlm/llm/llm-decoder.js';
import { mulberry32 } from '../../src/util/prng.js';
import { buildLlamaGraph } from '../models/llm/llama-graph.js';

interface BenchOpts {
  hidden: number; layers: number; ffn: number; vocab: number; heads: number;
  prefill: number; tokens: number; runs: number; threads: number; acc4: boolean; keep?: string;
}

/** Uniform weights with the variance of N(0, 1/fan_in) (PyTorch-like), RMSNorm gains 1. */
export function randomLlama(c: LlmConfig, seed = 1): LlamaWeights {
  const rnd = mulberry32(seed);
  const fill = (n: number, fanIn: number): Float32Array => {
    const a = Math.sqrt(3 / fanIn);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (2 * rnd() - 1) * a;
    return out;
  };
  const { hidden: D, intermediate: F, layers: L, vocabSize: V } = c;
  const qd = c.heads * c.headDim;
  const kvd = c.kvHeads * c.headDim;
  const emb = fill(V * D, 1); // unit variance
  return {
    config: c, tokenEmbedding: emb, rmsAtt: new Float32Array(L * D).fill(1), rmsFfn: new Float32Array(L * D).fill(1),
    wq: fill(L * qd * D, D), wk: fill(L * kvd * D, D), wv: fill(L * kvd * D, D), wo: fill(L * D * qd, qd),
    w1: fill(L * F * D, D), w2: fill(L * D * F, F), w3: fill(L * F * D, D),
    rmsFinal: new Float32Array(D).fill(1), wcls: fill(V * D, D), sharedClassifier: false,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);
function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

interface Row { model: string; fileMB: number; loadMs: number; prefillMs: number; decodeTokS: number; ids: number[]; logits: Float32Array }

async function measure(label: string, path: string, c: LlmConfig, emb: Float32Array, o: BenchOpts): Promise<Row> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], intraOpNumThreads: o.threads, interOpNumThreads: 1 });
  const loadMs = performance.now() - t0;
  const dec = new LlmDecoder(session, c);
  const embed = (ids: number[]): Float32Array => {
    const out = new Float32Array(ids.length * c.hidden);
    ids.forEach((id, i) => out.set(emb.subarray(id * c.hidden, (id + 1) * c.hidden), i * c.hidden));
    return out;
  };
  try {
    const prompt = Array.from({ length: o.prefill }, (_, i) => (i * 7919 + 13) % c.vocabSize);
    const x = embed(prompt);
    // Warm-up (allocations, MatMulNBits prepacking); its logits are compared with fp32's.
    const { logits } = await dec.forward(x, prompt.length, undefined, { logits: 'all' });
    const prefill: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      const s = performance.now();
      await dec.forward(x, prompt.length);
      prefill.push(performance.now() - s);
    }
    // Greedy decode with the KV cache after the same prompt; only the per-token steps are timed.
    const decode: number[] = [];
    let ids: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      let out = await dec.forward(x, prompt.length);
      ids = [argmax(out.logits)];
      const s = performance.now();
      for (let i = 1; i < o.tokens; i++) {
        out = await dec.forward(embed(ids.slice(-1)), 1, out.cache);
        ids.push(argmax(out.logits));
      }
      decode.push(((o.tokens - 1) / (performance.now() - s)) * 1000);
    }
    const fileMB = (await stat(path)).size / 2 ** 20;
    return { model: label, fileMB, loadMs, prefillMs: median(prefill), decodeTokS: median(decode), ids, logits };
  } finally {
    await session.release();
  }
}

export async function benchInt4(o: BenchOpts): Promise<void> {
  const c: LlmConfig = {
    hidden: o.hidden, intermediate: o.ffn, layers: o.layers, heads: o.heads, kvHeads: o.heads, headDim: o.hidden / o.heads,
    vocabSize: o.vocab, contextLength: Math.max(256, o.prefill + o.tokens), rmsNormEps: 1e-5, ropeTheta: 10000, ropeLayout: 'interleaved',
  };
  const dir = o.keep ? resolve(o.keep) : await mkdtemp(join(tmpdir(), 'bench-int4-'));
  if (o.keep) await mkdir(dir, { recursive: true });
  try {
    let t = performance.now();
    const w = randomLlama(c);
    const fp32 = join(dir, 'fp32.onnx');
    await writeFile(fp32, buildLlamaGraph(w, 'bench_llama'));
    const emb = w.tokenEmbedding;
    const buildMs = performance.now() - t;
    const quant = (out: string, extra: string[]): { ms: number; stats: Record<string, unknown> } => {
      const s = performance.now();
      const json = execFileSync('/usr/bin/python3', ['-m', 'anomalygpt_export.quantize_int4', fp32, out, ...extra], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        env: { ...process.env, PYTHONPATH: resolve('export') },
      });
      return { ms: performance.now() - s, stats: JSON.parse(json) as Record<string, unknown> };
    };
    const q = quant(join(dir, 'int4.onnx'), []);
    const q4 = o.acc4 ? quant(join(dir, 'int4-acc4.onnx'), ['--accuracy-level', '4']) : undefined;
    const params = (4 * c.hidden * c.hidden + 3 * c.hidden * c.intermediate) * c.layers + c.vocabSize * c.hidden;
    console.log(JSON.stringify({ config: c, weightParamsM: +(params / 1e6).toFixed(1), threads: o.threads, buildMs: Math.round(buildMs), quantizeMs: Math.round(q.ms),
      weightBytes: [q.stats.weight_bytes_before, q.stats.weight_bytes_after], maxWeightRelRmse: q.stats.max_weight_rel_rmse }));

    const rows: Row[] = [await measure('fp32', fp32, c, emb, o), await measure('int4', join(dir, 'int4.onnx'), c, emb, o)];
    if (q4) rows.push(await measure('int4 acc4', join(dir, 'int4-acc4.onnx'), c, emb, o));
    const base = rows[0];
    for (const r of rows) {
      const same = r.ids.findIndex((id, i) => id !== base.ids[i]);
      console.log(JSON.stringify({
        model: r.model, fileMB: +r.fileMB.toFixed(1), loadMs: Math.round(r.loadMs), [`prefill${o.prefill}Ms`]: +r.prefillMs.toFixed(1),
        decodeTokPerS: +r.decodeTokS.toFixed(2), sizeRatio: +(base.fileMB / r.fileMB).toFixed(2), prefillSpeedup: +(base.prefillMs / r.prefillMs).toFixed(2),
        decodeSpeedup: +(r.decodeTokS / base.decodeTokS).toFixed(2), prefillLogitsCosVsFp32: +cosine(r.logits, base.logits).toFixed(5),
        // Random weights give near-flat logits, so greedy ids part early; not a quality figure.
        greedyPrefixSameAsFp32: same < 0 ? r.ids.length : same,
      }));
    }
  } finally {
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): BenchOpts {
  const o: BenchOpts = { hidden: 1024, layers: 8, ffn: 2816, vocab: 8000, heads: 16, prefill: 90, tokens: 32, runs: 3, threads: 1, acc4: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-acc4') o.acc4 = false;
    else if (a === '--keep') o.keep = argv[++i];
    else {
      const key = a.replace(/^--/, '') as keyof BenchOpts;
      if (!(key in o) || typeof o[key] !== 'number') throw new Error(`unknown option ${a}`);
      (o as unknown as Record<string, number>)[key] = Number(argv[++i]);
    }
  }
  if (o.hidden % o.heads !== 0) throw new Error('--hidden must be a multiple of --heads');
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchInt4(parseArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
