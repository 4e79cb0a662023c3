/**
 * The vision half of AnomalyGPT on ONNX Runtime: encoder (img_emb, taps), the unsupervised
 * or few-shot map, the prompt learner and llama_proj. Each graph's output shapes are checked
 * once by a dry run at load (`checkShapes`), so a bundle with a wrong shape fails there,
 * not mid-inspection.
 */
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { AppError, ErrorCodes } from '../errors.js';
import { openSession, type ExecutionProviderName } from '../inference/ort-session.js';
import type { AnomalyGptDims } from './manifest.js';
import { MAP_OUTPUT, TAPS_INPUT, buildFewShotMapGraph, fewShotBank } from './map-graphs.js';

export interface EncodedImage {
  /** [E], unit norm. */
  readonly imgEmb: Float32Array;
  /** [4, 1, P, W] raw block outputs, CLS dropped. */
  readonly taps: Float32Array;
}

export interface SessionSettings {
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly executionProviders: readonly ExecutionProviderName[];
  readonly intraOpThreads: number;
}

function expectDims(what: string, t: ort.Tensor | undefined, dims: readonly number[]): Float32Array {
  if (!t || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new AppError(ErrorCodes.MODEL_SHAPE, `${what}: output shape [${t?.dims.join(', ') ?? 'missing'}], expected [${dims.join(', ')}]`);
  }
  return t.data as Float32Array;
}

async function run(what: string, s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  try {
    return await s.run(feeds);
  } catch (e) {
    throw new AppError(ErrorCodes.MODEL_SHAPE, `${what}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

export class AnomalyGptVision {
  constructor(
    readonly dims: AnomalyGptDims,
    private readonly encoder: ort.InferenceSession,
    private readonly textMap: ort.InferenceSession,
    private readonly promptLearner: ort.InferenceSession,
    private readonly llamaProj: ort.InferenceSession,
    private readonly settings: SessionSettings,
  ) {}

  /** pixel: CLIP-normalised NCHW [3, S, S] (src/vlm/pil-resize.ts). */
  async encode(pixel: Float32Array): Promise<EncodedImage> {
    const { size: S, patches: P, width: W, embedDim: E } = this.dims;
    const out = await run('encoder', this.encoder, { pixel: new ort.Tensor('float32', pixel, [1, 3, S, S]) });
    return { imgEmb: expectDims('encoder img_emb', out.img_emb, [1, E]), taps: expectDims('encoder taps', out.taps, [4, 1, P, W]) };
  }

  /** SPEC §3: [S·S] probabilities in [0, 1]. */
  async unsupervisedMap(taps: Float32Array): Promise<Float32Array> {
    return this.mapWith(this.textMap, taps, 'unsupervised map');
  }

  /** SPEC §4: a map session over the normal references' taps (the recipe's memory bank). */
  async fewShotMapper(references: readonly EncodedImage[]): Promise<FewShotMapper> {
    if (references.length === 0) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, 'few-shot map needs at least one normal reference image');
    const { grid, size, width } = this.dims;
    const geo = { grid, size, width };
    const graph = buildFewShotMapGraph(geo, fewShotBank(references.map((r) => r.taps), geo));
    const opened = await openSession(graph, this.settings, this.settings.logger);
    return new FewShotMapper(opened.session, (s, taps) => this.mapWith(s, taps, 'few-shot map'));
  }

  /** SPEC §5: [18·H], the 9 base prompts first. */
  async prompts(map: Float32Array): Promise<Float32Array> {
    const { size: S, prompts, hidden } = this.dims;
    const out = await run('prompt learner', this.promptLearner, { anomaly_map: new ort.Tensor('float32', map, [1, 1, S, S]) });
    return expectDims('prompt learner prompts', out.prompts, [1, prompts, hidden]);
  }

  /** SPEC §2: llama_proj(img_emb), the one image token [H]. */
  async imageToken(imgEmb: Float32Array): Promise<Float32Array> {
    const { embedDim: E, hidden } = this.dims;
    const out = await run('llama_proj', this.llamaProj, { img_emb: new ort.Tensor('float32', imgEmb, [1, E]) });
    return expectDims('llama_proj image_token', out.image_token, [1, 1, hidden]);
  }

  /** Dry run of every graph on zeros: the load-time shape check. */
  async checkShapes(): Promise<void> {
    const { size: S } = this.dims;
    const enc = await this.encode(new Float32Array(3 * S * S));
    const map = await this.unsupervisedMap(enc.taps);
    await this.prompts(map);
    await this.imageToken(enc.imgEmb);
  }

  async release(): Promise<void> {
    for (const s of [this.encoder, this.textMap, this.promptLearner, this.llamaProj]) await s.release();
  }

  private async mapWith(session: ort.InferenceSession, taps: Float32Array, what: string): Promise<Float32Array> {
    const { size: S, patches: P, width: W } = this.dims;
    const out = await run(what, session, { [TAPS_INPUT]: new ort.Tensor('float32', taps, [4, 1, P, W]) });
    return expectDims(what, out[MAP_OUTPUT], [1, 1, S, S]);
  }
}

export class FewShotMapper {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly mapWith: (s: ort.InferenceSession, taps: Float32Array) => Promise<Float32Array>,
  ) {}

  /** M_fs = 1 − Up(mean_l max_j cos), [S·S] (SPEC §4); replaces the text map entirely. */
  map(taps: Float32Array): Promise<Float32Array> {
    return this.mapWith(this.session, taps);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
