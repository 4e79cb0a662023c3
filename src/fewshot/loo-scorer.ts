/**
 * Leave-one-out scoring against a full bank (calibration): the scorer graph's excludable
 * variant, opened once per calibration. Scoring reference i without its own rows is one run
 * with those rows masked, so calibration never rebuilds a bank or opens a session per
 * reference (issue 11: cost linear in k).
 */
import * as ort from 'onnxruntime-node';
import type { BankTap } from './memory-bank.js';
import { SCORER_OUTPUT, buildScorerGraph, excludeInput } from './scorer-graph.js';
import type { MapSpec } from './scorer.js';
import type { TapFeatures } from './encoder.js';
import type { AnomalyMap } from '../judge/anomaly-map.js';

/** Added to an excluded row's similarity (scaled by ‖q‖ in the graph). */
const EXCLUDED = -4;

export class LooScorer {
  private readonly none: ort.Tensor[];

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly map: MapSpec,
    private readonly bank: readonly BankTap[],
    private readonly sources: readonly Uint16Array[],
  ) {
    this.none = bank.map((b) => new ort.Tensor('float32', new Float32Array(b.count), [1, b.count]));
  }

  static async open(
    bank: readonly BankTap[],
    sources: readonly Uint16Array[],
    map: MapSpec,
    open: (model: Uint8Array) => Promise<ort.InferenceSession>,
    mode: 'rows' | 'patches' = 'rows',
  ): Promise<LooScorer> {
    const graph = buildScorerGraph({
      taps: bank.map((b) => ({ input: b.output, channels: b.channels, height: b.height, width: b.width, bank: b.vectors, count: b.count })),
      mapWidth: map.width,
      mapHeight: map.height,
      smoothSigma: map.smoothSigma,
      pool: map.pool,
      excludable: mode === 'rows' ? true : 'patches',
    });
    return new LooScorer(await open(graph), map, bank, sources);
  }

  /** The rows of `reference` (or of several) masked; undefined: nothing masked, the full bank. */
  masksFor(reference: number | readonly number[] | undefined): ort.Tensor[] {
    if (reference === undefined) return this.none;
    const out = new Set(typeof reference === 'number' ? [reference] : reference);
    return this.bank.map((b, ti) => {
      const m = new Float32Array(b.count);
      const src = this.sources[ti];
      for (let i = 0; i < m.length; i++) if (out.has(src[i])) m[i] = EXCLUDED;
      return new ort.Tensor('float32', m, [1, b.count]);
    });
  }

  /** Per-patch masks ('patches' mode): `exclude(ti, patch, row)` true masks that pair. */
  patchMasks(exclude: (tap: number, patch: number, row: number) => boolean): ort.Tensor[] {
    return this.bank.map((b, ti) => {
      const P = b.height * b.width;
      const m = new Float32Array(P * b.count);
      for (let p = 0; p < P; p++) for (let r = 0; r < b.count; r++) if (exclude(ti, p, r)) m[p * b.count + r] = EXCLUDED;
      return new ort.Tensor('float32', m, [P, b.count]);
    });
  }

  async run(taps: readonly TapFeatures[], masks: readonly ort.Tensor[]): Promise<AnomalyMap> {
    const feeds: Record<string, ort.Tensor> = {};
    this.bank.forEach((b, ti) => {
      const t = taps.find((x) => x.tap.output === b.output);
      if (!t) throw new Error(`scorer: encoder produced no tap ${b.output}`);
      feeds[b.output] = t.tensor;
      feeds[excludeInput(b.output)] = masks[ti];
    });
    const out = await this.session.run(feeds, [SCORER_OUTPUT]);
    return { data: out[SCORER_OUTPUT].data as Float32Array, width: this.map.width, height: this.map.height };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
