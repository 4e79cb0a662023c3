/**
 * `bench`: inspections per second and per-stage latency percentiles of the inspection
 * pipeline on this machine, and its overhead over a bare `session.run` of the same encoder
 * on the same input, measured in the same run.
 */
import * as ort from 'onnxruntime-node';
import type { Frame } from '../capture/frame.js';
import type { Engine } from '../fewshot/engine.js';
import type { Inspector } from '../fewshot/inspector.js';

export interface StageStats {
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly mean_ms: number;
}

export interface BenchResult {
  readonly inspections: number;
  readonly inspections_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly stages: Record<'preprocess' | 'encoder' | 'map' | 'judge' | 'total', StageStats>;
  /** Bare encoder session.run on a pre-built input tensor, same size, same process. */
  readonly bare_encoder: StageStats & { runs_per_s: number };
  /** Pipeline time per inspection ÷ bare encoder time (ratio of means). */
  readonly overhead_ratio: number;
  readonly provider: string;
  readonly input: { width: number; height: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function stats(values: readonly number[]): StageStats {
  const s = [...values].sort((a, b) => a - b);
  return { p50_ms: percentile(s, 50), p99_ms: percentile(s, 99), mean_ms: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

export async function runBench(
  engine: Engine,
  inspector: Inspector,
  frames: readonly Frame[],
  opts: { seconds: number; warmup: number; progress?: (done: number) => void },
): Promise<BenchResult> {
  const { width, height } = inspector.recipe.settings.input;
  // The floor: the same encoder graph, same input size, input tensor built once. Its runs
  // alternate with the inspections, so both see the same load on the machine: measured one
  // after the other, a busy spell in either phase made the ratio meaningless (seen: 0.65).
  const session = await engine.openSession(await encoderBytes(engine));
  const input = new ort.Tensor('float32', new Float32Array(3 * width * height).fill(0.5), [1, 3, height, width]);
  const feeds = { [engine.inputSpec.name]: input };
  const fetches = engine.taps.map((x) => x.output);
  for (let i = 0; i < opts.warmup; i++) {
    await inspector.inspect(frames[i % frames.length]);
    await session.run(feeds, fetches);
  }
  const t: Record<keyof BenchResult['stages'], number[]> = { preprocess: [], encoder: [], map: [], judge: [], total: [] };
  const wall: number[] = [];
  const bare: number[] = [];
  const start = performance.now();
  let n = 0;
  try {
    while (performance.now() - start < opts.seconds * 1000) {
      const t0 = performance.now();
      const v = await inspector.inspect(frames[n % frames.length]);
      wall.push(performance.now() - t0);
      t.preprocess.push(v.timings.preprocessMs);
      t.encoder.push(v.timings.encoderMs);
      t.map.push(v.timings.mapMs);
      t.judge.push(v.timings.judgeMs);
      t.total.push(v.timings.totalMs);
      const b0 = performance.now();
      await session.run(feeds, fetches);
      bare.push(performance.now() - b0);
      n++;
      if (n % 50 === 0) opts.progress?.(n);
    }
  } finally {
    await session.release();
  }
  // One frame in flight: the rate is the inverse of the mean inspection time (bare runs excluded).
  const elapsed = wall.reduce((a, b) => a + b, 0) / 1000;
  const wallStats = stats(wall);
  const bareStats = stats(bare);
  return {
    inspections: n,
    inspections_per_s: n / elapsed,
    p50_ms: wallStats.p50_ms,
    p99_ms: wallStats.p99_ms,
    stages: {
      preprocess: stats(t.preprocess),
      encoder: stats(t.encoder),
      map: stats(t.map),
      judge: stats(t.judge),
      total: stats(t.total),
    },
    bare_encoder: { ...bareStats, runs_per_s: 1000 / bareStats.mean_ms },
    overhead_ratio: wallStats.mean_ms / bareStats.mean_ms,
    provider: engine.provider,
    input: { width, height },
  };
}

async function encoderBytes(engine: Engine): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  return readFile(engine.bundle.encoderPath);
}
