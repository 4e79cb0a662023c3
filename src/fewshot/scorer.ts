/**
 * Runs a recipe's scorer graph on the encoder's tap tensors, and reduces the map to an
 * image score. The tap tensors go straight from one session to the other.
 */
import type * as ort from 'onnxruntime-node';
import type { BankTap } from './memory-bank.js';
import { SCORER_OUTPUT, buildFeaturesGraph, buildScorerGraph, rowsOutput } from './scorer-graph.js';
import type { TapFeatures } from './encoder.js';
import type { AnomalyMap } from '../judge/anomaly-map.js';

export interface MapSpec {
  readonly width: number;
  readonly height: number;
  readonly smoothSigma: number;
  /** Neighbourhood aggregation window for patch features (1 = off). */
  readonly pool: number;
}

export function scorerGraphFor(bank: readonly BankTap[], map: MapSpec): Uint8Array {
  return buildScorerGraph({
    taps: bank.map((b) => ({ input: b.output, channels: b.channels, height: b.height, width: b.width, bank: b.vectors, count: b.count })),
    mapWidth: map.width,
    mapHeight: map.height,
    smoothSigma: map.smoothSigma,
    pool: map.pool,
  });
}

/** Runs the features graph: encoder taps → unit-norm patch rows per tap (bank building). */
export class PatchFeatures {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputs: readonly string[],
  ) {}

  static async open(taps: readonly TapFeatures[], pool: number, open: (model: Uint8Array) => Promise<ort.InferenceSession>): Promise<PatchFeatures> {
    const specs = taps.map((t) => ({ input: t.tap.output, channels: t.channels, height: t.height, width: t.width }));
    return new PatchFeatures(await open(buildFeaturesGraph(specs, pool)), specs.map((s) => s.input));
  }

  async run(taps: readonly TapFeatures[]): Promise<Float32Array[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of taps) feeds[t.tap.output] = t.tensor;
    const out = await this.session.run(feeds, this.inputs.map(rowsOutput));
    return this.inputs.map((name) => out[rowsOutput(name)].data as Float32Array);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export class Scorer {
  private readonly inputs: readonly string[];
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly map: MapSpec,
    bank: readonly BankTap[],
  ) {
    this.inputs = bank.map((b) => b.output);
  }

  async run(taps: readonly TapFeatures[]): Promise<AnomalyMap> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputs) {
      const t = taps.find((x) => x.tap.output === name);
      if (!t) throw new Error(`scorer: encoder produced no tap ${name}`);
      feeds[name] = t.tensor;
    }
    const out = await this.session.run(feeds, [SCORER_OUTPUT]);
    return { data: out[SCORER_OUTPUT].data as Float32Array, width: this.map.width, height: this.map.height };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
